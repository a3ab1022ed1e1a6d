package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestUserSearch: the search through the trigram index (migration 030)
// finds exactly the users whose username, email or name contains the
// text, as reading every user finds them, whatever wrote the users: the
// import, CreateUser, and an UPDATE or DELETE by hand. A rare text of
// three characters or more is looked up in the index; a common one (more
// users than the index hands on) and a short one are not, on SQLite.
func TestUserSearch(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		users := store.NewUserService(db, fastHash)
		if _, err := users.ImportUserStream(ctx, lanyard.CLIActor, &sliceStream{users: newUsers(2100, ""), size: 1000}); err != nil {
			t.Fatal(err)
		}
		if db.Dialect() == store.Postgres {
			// The import had the statistics gathered, which the planner
			// needs to tell a common text from a rare one.
			raw, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			var tuples float64
			if err := raw.QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'users'::regclass`).Scan(&tuples); err != nil || tuples != 2100 {
				t.Errorf("the planner counts %v users (%v) after an import of 2,100", tuples, err)
			}
		}
		for _, u := range []*lanyard.User{
			{Username: "jmueller", Email: "juergen.mueller@example.org", CommonName: "Jürgen Müller"},
			{Username: "zoe", Email: "zoe@example.net", CommonName: "Zoë Quinn-Smith"},
			{Username: "bob", Email: "alice@example.net", CommonName: "Robert Smith"},
		} {
			if err := users.CreateUser(ctx, lanyard.CLIActor, u, ""); err != nil {
				t.Fatal(err)
			}
		}
		for _, q := range []string{
			`UPDATE users SET email = 'renamed@elsewhere.test', common_name = 'Renamed Person' WHERE username = 'u00007'`,
			`UPDATE users SET username = 'u00009x' WHERE username = 'u00009'`,
			`DELETE FROM users WHERE username = 'u00008'`,
		} {
			if err := store.Exec(db, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		all, err := users.FindUsers(ctx, lanyard.UserFilter{})
		if err != nil {
			t.Fatal(err)
		}
		// What reading every user finds.
		want := func(text string) []string {
			text = strings.ToLower(text)
			var names []string
			for _, u := range all {
				if slices.ContainsFunc([]string{u.Username, u.Email, u.CommonName}, func(v string) bool {
					return strings.Contains(strings.ToLower(v), text)
				}) {
					names = append(names, u.Username)
				}
			}
			return names
		}
		for _, text := range []string{
			"renamed", "ELSEWHERE", "u00007", "u00008", "u00009", "9x", "müll", "JÜRGEN", "quinn-smith",
			"Smith", "bob al", "net\x01alice", "u0209", "example", "U 1", "ue", "e", "xyzzy",
			"%", "_", `\`, "a%e", "u0_00", "' OR 1=1 --",
		} {
			got, err := users.FindUsers(ctx, lanyard.UserFilter{Query: text})
			if err != nil {
				t.Fatalf("%q: %v", text, err)
			}
			names := make([]string, len(got))
			for i, u := range got {
				names[i] = u.Username
			}
			if w := want(text); !slices.Equal(names, w) {
				t.Errorf("%q: found %d users %.80q, want %d %.80q", text, len(names), names, len(w), w)
			}
		}

		for text, indexed := range map[string]bool{"renamed": true, "ELSEWHERE": true, "müll": true, "example": false, "ue": false, "a%e": false} {
			if db.Dialect() == store.Postgres && !indexed {
				// The planner chooses; for a text the index can serve, it
				// must be there to choose, and chosen when a scan of the
				// table is discouraged.
				continue
			}
			plan := store.UserSearchPlan(t, db, users, text)
			// On SQLite the index's candidates come as a list of IDs.
			uses := strings.Contains(plan, "users_search") || strings.Contains(plan, "json_each")
			if uses != indexed {
				t.Errorf("%q: the plan %q, want the index used: %v", text, plan, indexed)
			}
		}
	})
}

// TestUserSearchWithoutTrigrams: on a PostgreSQL database where the role
// Lanyard connects as may not create the extension pg_trgm (a database of
// its own, without the extension, where it owns only its schema), the
// migrations go through without the index, and the search still finds
// users, by reading them.
func TestUserSearchWithoutTrigrams(t *testing.T) {
	ctx := context.Background()
	admin, err := sql.Open("pgx", testenv.PostgresURL())
	if err != nil {
		testenv.Unavailable(t, "postgres: %v", err)
	}
	defer admin.Close()
	if err := admin.PingContext(ctx); err != nil {
		testenv.Unavailable(t, "postgres: %v", err)
	}
	name := "lanyard_plain_" + strings.ToLower(rand.Text()[:10])
	for _, q := range []string{`CREATE ROLE ` + name + ` LOGIN`, `CREATE DATABASE ` + name} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		admin.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`)
		admin.Exec(`DROP ROLE ` + name)
	})
	u, err := url.Parse(testenv.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	owner, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if _, err := owner.ExecContext(ctx, `CREATE SCHEMA app AUTHORIZATION `+name); err != nil {
		t.Fatal(err)
	}
	u.User = url.User(name)
	q := u.Query()
	q.Set("search_path", "app")
	u.RawQuery = q.Encode()

	var logged bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	db := openDB(t, u.String())
	if !strings.Contains(logged.String(), "no trigram index") {
		t.Errorf("the start logged %q, want a warning that the search has no index", logged.String())
	}
	var n int
	if err := owner.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_extension WHERE extname = 'pg_trgm'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("pg_trgm made %d times (%v), where the role may not make it", n, err)
	}
	users := store.NewUserService(db, fastHash)
	if err := users.CreateUser(ctx, lanyard.CLIActor, alice(), ""); err != nil {
		t.Fatal(err)
	}
	got, err := users.FindUsers(ctx, lanyard.UserFilter{Query: "Alice Ex"})
	if err != nil || len(got) != 1 {
		t.Fatalf("found %d users, %v", len(got), err)
	}
	if plan := store.UserSearchPlan(t, db, users, "alice"); strings.Contains(plan, "users_search") {
		t.Fatalf("plan %q names an index that cannot be there", plan)
	}
}
