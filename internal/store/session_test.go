package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

func TestSessions(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		users := store.NewUserService(db, fastHash)
		sessions := store.NewSessionService(db)
		u := alice()
		if err := users.CreateUser(ctx, lanyard.CLIActor, u, "correct horse"); err != nil {
			t.Fatal(err)
		}
		token, err := sessions.CreateSession(ctx, u.ID, "127.0.0.1", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(token) < 43 {
			t.Fatalf("token %q is too short", token)
		}
		if sess, got, err := sessions.FindSession(ctx, token); err != nil || got.Username != "alice" || sess.Method != lanyard.AuthPassword {
			t.Fatalf("find: %+v %v %v", sess, got, err)
		}
		// A login with the mobile ID says so.
		swk, err := sessions.CreateSessionBy(ctx, u.ID, "127.0.0.1", lanyard.AuthMobileID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if sess, _, err := sessions.FindSession(ctx, swk); err != nil || sess.Method != lanyard.AuthMobileID {
			t.Fatalf("find the mobile ID's session: %+v %v", sess, err)
		}
		for _, bad := range []string{"", "forged", token + "x", string(make([]byte, 1000))} {
			if _, _, err := sessions.FindSession(ctx, bad); lanyard.ErrorCode(err) != lanyard.EUNAUTHORIZED {
				t.Fatalf("token %q: %v", bad, err)
			}
		}
		t.Run("expiry", func(t *testing.T) {
			now = now.Add(time.Hour)
			defer func() { now = now.Add(-time.Hour) }()
			if _, _, err := sessions.FindSession(ctx, token); lanyard.ErrorCode(err) != lanyard.EUNAUTHORIZED {
				t.Fatalf("expired session: %v", err)
			}
		})
		t.Run("deactivation ends sessions", func(t *testing.T) {
			tok, err := sessions.CreateSession(ctx, u.ID, "127.0.0.1", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			// Reactivated at once: the session must be gone, not merely
			// refused while the user is inactive.
			for _, st := range []lanyard.UserState{lanyard.UserInactive, lanyard.UserActive} {
				if _, err := users.SetUserState(ctx, lanyard.CLIActor, "alice", st); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := sessions.FindSession(ctx, tok); lanyard.ErrorCode(err) != lanyard.EUNAUTHORIZED {
				t.Fatalf("session after deactivation and reactivation: %v", err)
			}
		})
		t.Run("a new password ends sessions", func(t *testing.T) {
			tok, err := sessions.CreateSession(ctx, u.ID, "127.0.0.1", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if err := users.SetPassword(ctx, lanyard.CLIActor, "alice", "another password", false); err != nil {
				t.Fatal(err)
			}
			if _, _, err := sessions.FindSession(ctx, tok); lanyard.ErrorCode(err) != lanyard.EUNAUTHORIZED {
				t.Fatalf("session after a new password: %v", err)
			}
		})
		t.Run("logout", func(t *testing.T) {
			tok, _ := sessions.CreateSession(ctx, u.ID, "127.0.0.1", time.Hour)
			if err := sessions.DeleteSession(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if _, _, err := sessions.FindSession(ctx, tok); lanyard.ErrorCode(err) != lanyard.EUNAUTHORIZED {
				t.Fatalf("deleted session: %v", err)
			}
		})
	})
}

func TestLoginLimiter(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		l := store.NewSessionService(db)
		const window = 10 * time.Minute
		for i := range 3 {
			if wait, _ := l.LoginAllowed(ctx, "user:alice", 3, window); wait != 0 {
				t.Fatalf("blocked after %d failures", i)
			}
			l.RecordLoginFailure(ctx, "user:alice", "addr:10.0.0.1")
			now = now.Add(time.Minute)
		}
		wait, err := l.LoginAllowed(ctx, "user:alice", 3, window)
		if err != nil || wait != 7*time.Minute {
			t.Fatalf("wait = %v, %v; want 7m", wait, err)
		}
		if wait, _ := l.LoginAllowed(ctx, "user:bob", 3, window); wait != 0 {
			t.Fatal("another user is blocked")
		}
		now = now.Add(8 * time.Minute)
		if wait, _ := l.LoginAllowed(ctx, "user:alice", 3, window); wait != 0 {
			t.Fatalf("still blocked after the window: %v", wait)
		}
		l.ClearLoginFailures(ctx, "addr:10.0.0.1")
		if wait, _ := l.LoginAllowed(ctx, "addr:10.0.0.1", 1, window); wait != 0 {
			t.Fatal("cleared key still blocked")
		}
	})
}
