package store_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/auditlog"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestReadAfterCommitSeesIt has writers change a user's state and read it
// back at once, outside any transaction: on SQLite the read goes to a
// reader connection other than the writer, and must see the commit.
func TestReadAfterCommitSeesIt(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		users := store.NewUserService(db, fastHash)
		const workers, rounds = 4, 15
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			name := fmt.Sprintf("reader%d", w)
			u := &lanyard.User{Username: name, Email: name + "@example.com", CommonName: "Reader", State: lanyard.UserActive}
			if err := users.CreateUser(ctx, lanyard.SystemActor, u, "a password of some length"); err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				states := []lanyard.UserState{lanyard.UserInactive, lanyard.UserActive}
				for i := range rounds {
					want := states[i%2]
					if _, err := users.SetUserState(ctx, lanyard.SystemActor, name, want); err != nil {
						errs <- err
						return
					}
					got, err := users.FindUserByUsername(ctx, name)
					if err != nil {
						errs <- err
						return
					}
					if got.State != want {
						errs <- fmt.Errorf("round %d: read %s right after committing %s", i, got.State, want)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// TestPreparedStatementsRunWithTheirArguments runs the same statements
// again and again with other arguments, in transactions and outside, so
// that the prepared copies are used: each run must answer for its own
// arguments.
func TestPreparedStatementsRunWithTheirArguments(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		users := store.NewUserService(db, fastHash)
		var names []string
		for i := range 5 {
			name := fmt.Sprintf("prepared%d", i)
			u := &lanyard.User{Username: name, Email: name + "@example.com", CommonName: "Prepared " + name, State: lanyard.UserActive}
			if err := users.CreateUser(ctx, lanyard.SystemActor, u, "a password of some length"); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}
		for round := range 3 {
			for _, name := range names {
				u, err := users.FindUserByUsername(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				if u.Username != name || u.CommonName != "Prepared "+name {
					t.Fatalf("round %d: asked for %s, got %s (%s)", round, name, u.Username, u.CommonName)
				}
			}
		}
		if _, err := users.FindUserByUsername(ctx, "nobody"); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
			t.Fatalf("unknown user: %v, want ENOTFOUND", err)
		}
		// A statement that fails still fails with its own error, prepared
		// or not, and leaves the next one working.
		for range 2 {
			if err := store.CachedExec(db, `UPDATE no_such_table SET x = 1`); err == nil {
				t.Fatal("a statement on a missing table succeeded")
			}
		}
		if _, err := users.FindUserByUsername(ctx, names[0]); err != nil {
			t.Fatal(err)
		}
	})
}

// TestAuditChainAcrossHandles writes audit events through two handles on
// one database, as the server and the admin CLI do: each handle's guess
// of the chain's head goes stale when the other writes, and the chain must
// stay whole.
func TestAuditChainAcrossHandles(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a := openDB(t, dsn)
		b := openDB(t, dsn)
		for i := range 6 {
			db := a
			if i%3 == 2 {
				db = b
			}
			if err := db.RecordAudit(ctx, lanyard.SystemActor, "test.event", fmt.Sprintf("subject %d", i), "detail"); err != nil {
				t.Fatal(err)
			}
			if err := db.RecordAuditBatch(ctx, lanyard.SystemActor, "test.batch", 3); err != nil {
				t.Fatal(err)
			}
		}
		// On PostgreSQL the events join the chain after they commit.
		if _, err := a.ChainAudit(ctx); err != nil {
			t.Fatal(err)
		}
		var seq int64
		prev := ""
		n := 0
		err := a.EachAuditEvent(ctx, func(e *lanyard.AuditEvent) error {
			n++
			if e.Seq != seq+1 || e.PrevHash != prev {
				return fmt.Errorf("event %d follows %d with prev hash %q, want %q", e.Seq, seq, e.PrevHash, prev)
			}
			seq, prev = e.Seq, e.Hash
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < 24 {
			t.Fatalf("%d events, want at least 24", n)
		}
	})
}

// TestChangeOnAStaleHeadCommitsWhole: a change whose transaction guessed
// the chain's head where another handle has moved it since commits whole,
// its own writes and its event (on SQLite; on PostgreSQL, events are
// chained after they commit, and the change commits whole all the same).
func TestChangeOnAStaleHeadCommitsWhole(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := openDB(t, dsn), openDB(t, dsn)
		users := store.NewUserService(a, fastHash)
		u := &lanyard.User{Username: "stale", Email: "stale@example.com", CommonName: "Stale Head", State: lanyard.UserActive}
		if err := users.CreateUser(ctx, lanyard.SystemActor, u, "a password of some length"); err != nil {
			t.Fatal(err)
		}
		sessions := store.NewSessionService(a)
		for i := range 3 {
			// b moves the head; a's guess is now where a left it.
			if err := b.RecordAudit(ctx, lanyard.SystemActor, "test.elsewhere", strconv.Itoa(i), ""); err != nil {
				t.Fatal(err)
			}
			before := a.Counters()
			token, err := sessions.LogIn(ctx, lanyard.Actor{Username: "stale", Addr: "192.0.2.7"}, u.ID, "", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if n := a.Counters().Statements - before.Statements; a.Dialect() == store.SQLite && n < 6 {
				t.Errorf("a login on a stale head took %d statements: the guess was not corrected", n)
			}
			if _, _, err := sessions.FindSession(ctx, token); err != nil {
				t.Fatalf("the session of a login on a stale head: %v", err)
			}
		}
		events, err := a.FindAuditEvents(ctx, lanyard.AuditFilter{Action: "session.login"})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 3 {
			t.Fatalf("%d login events, want 3", len(events))
		}
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if res, err := auditlog.Verify(ctx, a, key.Public()); err != nil || !res.OK() {
			t.Fatalf("verify: %+v, %v", res, err)
		}
	})
}

// TestSQLiteReadersCannotWrite checks that the reads outside transactions
// run on connections that refuse to write, so that a write sent there by
// mistake fails in the tests instead of racing the writer.
func TestSQLiteReadersCannotWrite(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "lanyard.db")
	db := openDB(t, dsn)
	err := store.ReadOnlyExec(db, `UPDATE users SET state = 'locked'`)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "readonly") {
		t.Fatalf("a write on a reader: %v, want a read-only error", err)
	}
}
