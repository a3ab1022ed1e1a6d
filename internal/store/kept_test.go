package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestSessionsHeld checks that a process reads a session from the database
// once and then holds it, and that every change of the user or the
// session reaches what it holds: its own changes at once, another
// process's (an administration command, another instance), including
// ones made by hand in SQL, soon after they commit. On PostgreSQL, a cut
// of the connection that listens for them drops everything held.
func TestSessionsHeld(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dbA, dbB := openDB(t, dsn), openDB(t, dsn)
		users, usersB := store.NewUserService(dbA, fastHash), store.NewUserService(dbB, fastHash)
		sessions, sessionsB := store.NewSessionService(dbA), store.NewSessionService(dbB)
		sessions.IdleTimeout = 30 * time.Minute
		u := alice()
		if err := users.CreateUser(ctx, lanyard.CLIActor, u, "correct horse"); err != nil {
			t.Fatal(err)
		}
		token, err := sessions.CreateSession(ctx, u.ID, "127.0.0.1", 8*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		find := func() (*lanyard.User, int64, error) {
			t.Helper()
			before := dbA.Counters().Statements
			_, found, err := sessions.FindSession(ctx, token)
			return found, dbA.Counters().Statements - before, err
		}
		held := func() bool { _, n, err := find(); return err == nil && n == 0 }
		eventually(t, "the session is held", held)

		// What a caller does with the user it got stays its own.
		got, _, _ := find()
		got.Attributes["dept"] = "Sales"
		got.Roles = append(got.Roles, lanyard.RoleAdmin)
		if again, _, _ := find(); again.Attributes["dept"] != "R&D" || again.HasRole(lanyard.RoleAdmin) {
			t.Fatalf("a change of the returned user reached the held one: %v %v", again.Attributes, again.Roles)
		}

		// This process's own change: seen by the very next request.
		if _, err := users.SetUserRoles(ctx, lanyard.CLIActor, "alice", []lanyard.Role{lanyard.RoleOperator}); err != nil {
			t.Fatal(err)
		}
		if got, n, err := find(); err != nil || n == 0 || !got.HasRole(lanyard.RoleOperator) {
			t.Fatalf("right after this process's change of roles: roles %v, %d statements, %v", got.Roles, n, err)
		}

		// Another process's changes, through the store and by hand.
		eventually(t, "the session is held again", held)
		if _, err := usersB.SetUserRoles(ctx, lanyard.CLIActor, "alice", nil); err != nil {
			t.Fatal(err)
		}
		eventually(t, "another process's change of roles is seen", func() bool {
			got, _, err := find()
			return err == nil && !got.HasRole(lanyard.RoleOperator)
		})
		eventually(t, "the session is held again", held)
		if err := store.Exec(dbB, `UPDATE users SET email = 'alice@example.org' WHERE id = ?`, u.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "a change in SQL is seen", func() bool {
			got, _, err := find()
			return err == nil && got.Email == "alice@example.org"
		})
		// Held once every change before has been heard: a read of the
		// session can come between a change's commit and the watch's
		// hearing of it, which then ends what that read kept.
		store.AwaitKeptRead(t, dbA)
		eventually(t, "the session is held again", held)
		// A session's last use, written by another instance, changes
		// nothing held.
		if n := keptChanges(t, dsn, dbB, func() {
			if err := store.Exec(dbB, `UPDATE sessions SET last_seen = last_seen + 1`); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("writing a session's last use signalled %d changes of what is kept, want none", n)
		}
		if _, n, err := find(); err != nil || n != 0 {
			t.Errorf("after another instance wrote the last use: %d statements, %v; want the session still held", n, err)
		}

		if store.IsPostgresURL(dsn) {
			cutListener(t, dsn, dbA)
			eventually(t, "a change made while nobody listened is seen", func() bool {
				got, _, err := find()
				return err == nil && got.CommonName == "Alice Cut"
			})
			eventually(t, "the session is held again after the cut", held)
		}

		// The user's state, changed by another process, ends the session.
		if _, err := usersB.SetUserState(ctx, lanyard.CLIActor, "alice", lanyard.UserLocked); err != nil {
			t.Fatal(err)
		}
		eventually(t, "another process's lock of the user is seen", func() bool {
			_, _, err := find()
			return lanyard.ErrorCode(err) == lanyard.EUNAUTHORIZED
		})

		// A logout in this process: the next request is refused.
		if _, err := users.SetUserState(ctx, lanyard.CLIActor, "alice", lanyard.UserActive); err != nil {
			t.Fatal(err)
		}
		for _, logout := range []func(token string) error{
			func(token string) error { return sessions.DeleteSession(ctx, token) },
			func(string) error { return sessions.DeleteUserSessions(ctx, u.ID) },
		} {
			if token, err = sessions.CreateSession(ctx, u.ID, "127.0.0.1", 8*time.Hour); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the new session is held", held)
			if err := logout(token); err != nil {
				t.Fatal(err)
			}
			if _, _, err := find(); lanyard.ErrorCode(err) != lanyard.EUNAUTHORIZED {
				t.Fatalf("right after a logout: %v, want EUNAUTHORIZED", err)
			}
		}
		// And one in another process, and every session ended by hand.
		ends := map[string]func() error{
			"another process's logout": func() error { return sessionsB.DeleteSession(ctx, token) },
			"a TRUNCATE of the sessions": func() error {
				if !store.IsPostgresURL(dsn) {
					return store.Exec(dbB, `DELETE FROM sessions`)
				}
				return store.Exec(dbB, `TRUNCATE sessions`)
			},
		}
		for _, what := range []string{"another process's logout", "a TRUNCATE of the sessions"} {
			if token, err = sessions.CreateSession(ctx, u.ID, "127.0.0.1", 8*time.Hour); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the new session is held", held)
			if err := ends[what](); err != nil {
				t.Fatal(err)
			}
			eventually(t, what+" is seen", func() bool {
				_, _, err := find()
				return lanyard.ErrorCode(err) == lanyard.EUNAUTHORIZED
			})
		}
	})
}

// cutListener ends the connection on which db listens for changes of
// sessions, changes the user meanwhile without notifying anyone, and waits
// until db listens again.
func cutListener(t *testing.T, dsn string, db *store.DB) {
	t.Helper()
	pid := terminateListener(t, dsn, store.KeptListenerPID(db))
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// The change is made without the trigger's notification, as one
	// lost while nobody listened would be.
	if _, err := admin.ExecContext(context.Background(), `BEGIN; ALTER TABLE users DISABLE TRIGGER users_changed; UPDATE users SET common_name = 'Alice Cut'; ALTER TABLE users ENABLE TRIGGER users_changed; COMMIT`); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the watch listens again", func() bool {
		p := store.KeptListenerPID(db)
		return p != 0 && p != pid
	})
}

// keptChanges returns how many changes of what servers keep the triggers
// signalled for write: on SQLite, how far it moved the count in
// kept_changes; on PostgreSQL, how many notifications a listener got
// before a marker sent after write committed (notifications arrive in
// the order their transactions committed).
func keptChanges(t *testing.T, dsn string, db *store.DB, write func()) int {
	t.Helper()
	if !store.IsPostgresURL(dsn) {
		before := store.KeptChangeCount(t, db)
		write()
		return int(store.KeptChangeCount(t, db) - before)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN lanyard_kept`); err != nil {
		t.Fatal(err)
	}
	write()
	if _, err := conn.Exec(ctx, `SELECT pg_notify('lanyard_kept', 'marker')`); err != nil {
		t.Fatal(err)
	}
	for n := 0; ; n++ {
		note, err := conn.WaitForNotification(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if note.Payload == "marker" {
			return n
		}
	}
}

// TestScriptsKept checks that a process reads a script once and then keeps
// it, and that a script saved here is read at once, one saved by another
// process (through the store or by hand) soon after it commits.
func TestScriptsKept(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dbA, dbB := openDB(t, dsn), openDB(t, dsn)
		const process = "mobile-id"
		if _, err := dbA.SaveScript(ctx, lanyard.CLIActor, process, "def options(user): return {}", ""); err != nil {
			t.Fatal(err)
		}
		current := func() (*lanyard.OptionScript, int64) {
			t.Helper()
			before := dbA.Counters().Statements
			sc, err := dbA.CurrentScript(ctx, process)
			if err != nil {
				t.Fatal(err)
			}
			return sc, dbA.Counters().Statements - before
		}
		kept := func() bool { _, n := current(); return n == 0 }
		eventually(t, "the script is kept", kept)
		first, _ := current()

		sc, err := dbA.SaveScript(ctx, lanyard.CLIActor, process, "def options(user): return {'a': 1}", "")
		if err != nil {
			t.Fatal(err)
		}
		if got, n := current(); got.Version != sc.Version || n == 0 {
			t.Fatalf("right after this process saved version %d: version %d, %d statements", sc.Version, got.Version, n)
		}
		eventually(t, "the script is kept again", kept)
		if sc, err = dbB.SaveScript(ctx, lanyard.CLIActor, process, "def options(user): return {'a': 2}", ""); err != nil {
			t.Fatal(err)
		}
		eventually(t, "another process's script is read", func() bool { got, _ := current(); return got.Version == sc.Version })
		eventually(t, "the script is kept again", kept)
		if err := store.Exec(dbB, `INSERT INTO option_scripts (process, version, source, created_at, created_by) VALUES (?, ?, 'x', 0, 'hand')`,
			process, sc.Version+1); err != nil {
			t.Fatal(err)
		}
		eventually(t, "a script inserted by hand is read", func() bool { got, _ := current(); return got.Version == sc.Version+1 })
		if first.Version >= sc.Version {
			t.Fatalf("versions did not grow: %d, %d", first.Version, sc.Version)
		}
	})
}
