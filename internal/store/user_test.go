package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

func alice() *lanyard.User {
	return &lanyard.User{Username: "alice", Email: "alice@example.com", CommonName: "Alice Example",
		Attributes: map[string]string{"dept": "R&D"}}
}

// TestUserWithoutAttributes: a user without attributes reads back with
// an empty map of them.
func TestUserWithoutAttributes(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		users := store.NewUserService(openDB(t, dsn), fastHash)
		bob := &lanyard.User{Username: "bob", Email: "bob@example.com", CommonName: "Bob Example"}
		if err := users.CreateUser(ctx, lanyard.CLIActor, bob, ""); err != nil {
			t.Fatal(err)
		}
		got, err := users.FindUserByUsername(ctx, "bob")
		if err != nil {
			t.Fatal(err)
		}
		if got.Attributes == nil || len(got.Attributes) != 0 {
			t.Fatalf("attributes %#v, want an empty map", got.Attributes)
		}
	})
}

// TestAnyUserHas: whether a role is anyone's, as the start asks before it
// makes the first administrator.
func TestAnyUserHas(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		users := store.NewUserService(openDB(t, dsn), fastHash)
		has := func(r lanyard.Role) bool {
			t.Helper()
			found, err := users.AnyUserHas(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			return found
		}
		if has(lanyard.RoleAdmin) || has(lanyard.RoleUser) {
			t.Fatal("an empty database has a user with a role")
		}
		u := alice()
		u.Roles = []lanyard.Role{lanyard.RoleUser, lanyard.RoleOperator}
		if err := users.CreateUser(ctx, lanyard.CLIActor, u, ""); err != nil {
			t.Fatal(err)
		}
		if !has(lanyard.RoleUser) || has(lanyard.RoleAdmin) {
			t.Fatalf("with roles %v: user %v, admin %v", u.Roles, has(lanyard.RoleUser), has(lanyard.RoleAdmin))
		}
		if _, err := users.SetUserRoles(ctx, lanyard.CLIActor, u.Username, []lanyard.Role{lanyard.RoleAdmin}); err != nil {
			t.Fatal(err)
		}
		if !has(lanyard.RoleAdmin) {
			t.Fatal("an administrator is not found")
		}
	})
}

func TestUsers(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		users := store.NewUserService(db, fastHash)
		actor := lanyard.Actor{Username: "tester", Addr: "test"}

		u := alice()
		if err := users.CreateUser(ctx, actor, u, "correct horse"); err != nil {
			t.Fatalf("create: %v", err)
		}
		if u.ID == 0 || u.State != lanyard.UserActive || !u.HasRole(lanyard.RoleUser) {
			t.Fatalf("created user = %+v", u)
		}
		t.Run("duplicate", func(t *testing.T) {
			err := users.CreateUser(ctx, actor, alice(), "correct horse")
			if lanyard.ErrorCode(err) != lanyard.ECONFLICT {
				t.Fatalf("err = %v, want conflict", err)
			}
		})
		t.Run("find", func(t *testing.T) {
			got, err := users.FindUserByUsername(ctx, " ALICE ")
			if err != nil {
				t.Fatal(err)
			}
			if got.Email != u.Email || got.Attributes["dept"] != "R&D" || got.CommonName != "Alice Example" {
				t.Fatalf("found %+v", got)
			}
			if _, err := users.FindUserByUsername(ctx, "nobody"); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
				t.Fatalf("unknown user: %v", err)
			}
		})
		t.Run("search with metacharacters", func(t *testing.T) {
			for _, q := range []string{"ali", "EXAMPLE.COM", "Alice Ex"} {
				got, err := users.FindUsers(ctx, lanyard.UserFilter{Query: q})
				if err != nil || len(got) != 1 {
					t.Fatalf("query %q: %d users, %v", q, len(got), err)
				}
			}
			for _, q := range []string{"%", "_", `\`, "' OR 1=1 --", "a%e"} {
				got, err := users.FindUsers(ctx, lanyard.UserFilter{Query: q})
				if err != nil || len(got) != 0 {
					t.Fatalf("query %q: %d users, %v", q, len(got), err)
				}
			}
		})
		t.Run("authenticate", func(t *testing.T) {
			if _, err := users.Authenticate(ctx, "alice", "correct horse"); err != nil {
				t.Fatalf("good password: %v", err)
			}
			_, errWrong := users.Authenticate(ctx, "alice", "wrong horse")
			_, errUnknown := users.Authenticate(ctx, "nobody", "wrong horse")
			if lanyard.ErrorCode(errWrong) != lanyard.EUNAUTHORIZED || lanyard.ErrorCode(errUnknown) != lanyard.EUNAUTHORIZED {
				t.Fatalf("wrong: %v, unknown: %v", errWrong, errUnknown)
			}
			if lanyard.ErrorMessage(errWrong) != lanyard.ErrorMessage(errUnknown) {
				t.Fatalf("messages differ: %q vs %q", lanyard.ErrorMessage(errWrong), lanyard.ErrorMessage(errUnknown))
			}
		})
		t.Run("state", func(t *testing.T) {
			for _, st := range []lanyard.UserState{lanyard.UserInactive, lanyard.UserLocked, lanyard.UserRegistered} {
				if _, err := users.SetUserState(ctx, actor, "alice", st); err != nil {
					t.Fatal(err)
				}
				_, err := users.Authenticate(ctx, "alice", "correct horse")
				if lanyard.ErrorCode(err) != lanyard.EUSERSTATE || !strings.Contains(lanyard.ErrorMessage(err), string(st)) {
					t.Fatalf("state %s: %v", st, err)
				}
			}
			if _, err := users.SetUserState(ctx, actor, "alice", "sleeping"); lanyard.ErrorCode(err) != lanyard.EINVALID {
				t.Fatalf("bad state: %v", err)
			}
			if _, err := users.SetUserState(ctx, actor, "alice", lanyard.UserActive); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("roles", func(t *testing.T) {
			got, err := users.SetUserRoles(ctx, actor, "alice", []lanyard.Role{lanyard.RoleAdmin, lanyard.RoleAdmin})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Roles) != 2 || !got.HasRole(lanyard.RoleAdmin) || !got.HasRole(lanyard.RoleUser) {
				t.Fatalf("roles = %v", got.Roles)
			}
			if _, err := users.SetUserRoles(ctx, actor, "alice", []lanyard.Role{"root"}); lanyard.ErrorCode(err) != lanyard.EINVALID {
				t.Fatalf("bad role: %v", err)
			}
		})
		t.Run("password", func(t *testing.T) {
			if err := users.SetPassword(ctx, actor, "alice", "short", false); lanyard.ErrorCode(err) != lanyard.EINVALID {
				t.Fatalf("short password: %v", err)
			}
			if err := users.SetPassword(ctx, actor, "alice", "a new password", true); err != nil {
				t.Fatal(err)
			}
			got, err := users.Authenticate(ctx, "alice", "a new password")
			if err != nil || !got.MustChangePassword {
				t.Fatalf("after set: %+v %v", got, err)
			}
		})
		t.Run("audited", func(t *testing.T) {
			events, err := db.FindAuditEvents(ctx, lanyard.AuditFilter{Subject: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{"user.create": false, "user.set_state": false, "user.set_roles": false, "user.set_password": false}
			for _, e := range events {
				if _, ok := want[e.Action]; ok {
					want[e.Action] = true
				}
				if e.Actor != "tester" || e.Time.IsZero() {
					t.Fatalf("event %+v", e)
				}
				if strings.Contains(e.Detail, "horse") || strings.Contains(e.Detail, "new password") {
					t.Fatalf("password in audit detail: %q", e.Detail)
				}
			}
			for a, seen := range want {
				if !seen {
					t.Errorf("no %s event", a)
				}
			}
		})
	})
}

func TestCreateUserRefusesBadInput(t *testing.T) {
	long := strings.Repeat("x", 10<<10)
	cases := []struct {
		name string
		edit func(u *lanyard.User)
	}{
		{"empty username", func(u *lanyard.User) { u.Username = "" }},
		{"long username", func(u *lanyard.User) { u.Username = long }},
		{"sql in username", func(u *lanyard.User) { u.Username = "a'; DROP TABLE users; --" }},
		{"bad email", func(u *lanyard.User) { u.Email = "not-an-email" }},
		{"long email", func(u *lanyard.User) { u.Email = long + "@example.com" }},
		{"empty name", func(u *lanyard.User) { u.CommonName = "  " }},
		{"long name", func(u *lanyard.User) { u.CommonName = long }},
		{"control in name", func(u *lanyard.User) { u.CommonName = "Alice\x00" }},
		{"bad state", func(u *lanyard.User) { u.State = "zombie" }},
		{"bad role", func(u *lanyard.User) { u.Roles = []lanyard.Role{"root"} }},
		{"long attribute", func(u *lanyard.User) { u.Attributes = map[string]string{"a": long} }},
	}
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		users := store.NewUserService(db, fastHash)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				u := alice()
				tc.edit(u)
				if err := users.CreateUser(ctx, lanyard.CLIActor, u, "a good password"); lanyard.ErrorCode(err) != lanyard.EINVALID {
					t.Fatalf("err = %v, want invalid", err)
				}
			})
		}
		if got, _ := users.FindUsers(ctx, lanyard.UserFilter{}); len(got) != 0 {
			t.Fatalf("%d users created from bad input", len(got))
		}
	})
}

func TestImportIsAllOrNothing(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		users := store.NewUserService(db, fastHash)
		batch := []lanyard.NewUser{
			{User: lanyard.User{Username: "bob", Email: "bob@example.com", CommonName: "Bob"}, Password: "bob's password"},
			{User: lanyard.User{Username: "carol", Email: "carol@example.com", CommonName: "Carol"}},
			{User: lanyard.User{Username: "bob", Email: "bob2@example.com", CommonName: "Bob Two"}},
		}
		if err := users.ImportUsers(ctx, lanyard.CLIActor, batch); lanyard.ErrorCode(err) != lanyard.ECONFLICT {
			t.Fatalf("err = %v, want conflict", err)
		}
		if got, _ := users.FindUsers(ctx, lanyard.UserFilter{}); len(got) != 0 {
			t.Fatalf("%d users imported from a failed batch", len(got))
		}
		if err := users.ImportUsers(ctx, lanyard.CLIActor, batch[:2]); err != nil {
			t.Fatal(err)
		}
		if _, err := users.Authenticate(ctx, "carol", ""); lanyard.ErrorCode(err) != lanyard.EUNAUTHORIZED {
			t.Fatalf("user without password logged in: %v", err)
		}
	})
}
