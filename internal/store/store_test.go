package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// fastHash keeps argon2id cheap in tests; production uses password.Default.
var fastHash = password.Params{Memory: 1024, Time: 1, Threads: 1}

// openDB opens and migrates the database at dsn.
func openDB(tb testing.TB, dsn string) *store.DB { return testenv.OpenDB(tb, dsn) }

func TestMigrateTwiceAndReady(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		if err := db.Ready(ctx); err != nil {
			t.Fatalf("ready: %v", err)
		}
	})
}

func TestOpenRefusesUnreachablePostgres(t *testing.T) {
	// Port 1 has no server; the context is live, so the failure is the
	// connection's, not a cancelled context's.
	if _, err := store.Open(context.Background(), "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"); err == nil {
		t.Fatal("open succeeded on a closed port")
	}
}

// TestSQLiteSyncsEveryCommit: an SQLite commit is on disk before it
// returns (synchronous FULL, 2), so that a crash of the machine takes back
// nothing a user or a phone was told had happened.
func TestSQLiteSyncsEveryCommit(t *testing.T) {
	db := openDB(t, testenv.DSN(t, "sqlite"))
	if got := store.WriterPragma(t, db, "synchronous"); got != "2" {
		t.Fatalf("synchronous = %s, want 2 (FULL)", got)
	}
	if got := store.WriterPragma(t, db, "journal_mode"); got != "wal" {
		t.Fatalf("journal_mode = %s, want wal", got)
	}
}

// TestUndurableSettings: the settings under which a crash of the
// database's machine loses confirmed commits are named, and only those:
// PostgreSQL's, and the synchronous level the SQLite writer really has.
func TestUndurableSettings(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.DSN(t, "postgres")
	for _, c := range []struct {
		params string
		want   string
	}{
		{"", ""},
		{"&synchronous_commit=local", ""},
		{"&synchronous_commit=off", "synchronous_commit=off"},
	} {
		db := openDB(t, dsn+c.params)
		weak, err := db.Undurable(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(weak, " "); got != c.want {
			t.Errorf("%q: undurable %q, want %q", c.params, got, c.want)
		}
	}
	weak, err := openDB(t, testenv.DSN(t, "sqlite")).Undurable(ctx)
	if err != nil || len(weak) > 0 {
		t.Errorf("SQLite: undurable %q, %v", weak, err)
	}
}

// TestSweepsUseIndexes: every sweep of expired rows finds them through an
// index, never by reading its whole table, on both engines.
func TestSweepsUseIndexes(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		db := openDB(t, dsn)
		for _, q := range store.Sweeps {
			if strings.Contains(q, "ocsp_changes") && store.IsPostgresURL(dsn) {
				continue // PostgreSQL notifies instead
			}
			plan := store.ExplainSweep(t, db, q)
			if strings.Contains(plan, "Seq Scan") || strings.HasPrefix(plan, "SCAN ") || strings.Contains(plan, "; SCAN ") {
				t.Errorf("%s reads the whole table: %s", q, plan)
			}
		}
	})
}
