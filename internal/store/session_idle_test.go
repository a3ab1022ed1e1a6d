package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestSessionIdleTimeout checks that a session in use lives on, that one
// left unused for the idle timeout ends, and that use is written at most
// once a minute, not on every request.
func TestSessionIdleTimeout(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		users := store.NewUserService(db, fastHash)
		sessions := store.NewSessionService(db)
		sessions.IdleTimeout = 30 * time.Minute
		u := alice()
		if err := users.CreateUser(ctx, lanyard.CLIActor, u, "correct horse"); err != nil {
			t.Fatal(err)
		}
		token, err := sessions.CreateSession(ctx, u.ID, "127.0.0.1", 8*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		find := func() (*lanyard.Session, error) {
			sess, _, err := sessions.FindSession(ctx, token)
			return sess, err
		}
		// In use every 20 minutes for two hours: the session lives.
		for range 6 {
			now = now.Add(20 * time.Minute)
			if _, err := find(); err != nil {
				t.Fatalf("a session used every 20 minutes ended at %s: %v", now.Format("15:04"), err)
			}
		}
		// Requests within a minute write last_seen once.
		seen := now
		now = now.Add(30 * time.Second)
		sess, err := find()
		if err != nil || !sess.LastSeen.Equal(seen) {
			t.Fatalf("a request 30 s after the last wrote last_seen %s (was %s): %v", sess.LastSeen, seen, err)
		}
		now = now.Add(31 * time.Second)
		if sess, err = find(); err != nil || !sess.LastSeen.Equal(now) {
			t.Fatalf("a request 61 s after the last write left last_seen at %s: %v", sess.LastSeen, err)
		}
		// Unused for 30 minutes: ended.
		now = now.Add(30 * time.Minute)
		if _, err := find(); lanyard.ErrorCode(err) != lanyard.EUNAUTHORIZED {
			t.Fatalf("a session unused for 30 minutes: %v, want EUNAUTHORIZED", err)
		}
	})
}
