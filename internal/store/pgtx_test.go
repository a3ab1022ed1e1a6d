package store_test

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestLaterWriteFailsItsTransaction: a write whose answer the transaction
// did not wait for, and that fails, fails the transaction when its answer
// comes, and nothing of it commits; its failure is never taken for that
// of the statement that reported it.
func TestLaterWriteFailsItsTransaction(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openProbeDB(t, dsn)
		err := store.ExecInTx(ctx, db, store.Statement{SQL: `INSERT INTO probe (id) VALUES (1)`},
			store.Statement{SQL: `INSERT INTO probe (id) VALUES (1)`, Later: true})
		if err == nil {
			t.Fatal("a transaction whose later write failed committed")
		}
		if db.Dialect() == store.Postgres && store.IsUniqueViolation(err) {
			t.Errorf("the later write's failure is taken for a unique violation of the commit: %v", err)
		}
		if n := probeRows(t, db); n != 0 {
			t.Fatalf("%d rows after a failed transaction, want 0", n)
		}
		if err := store.ExecInTx(ctx, db, store.Statement{SQL: `INSERT INTO probe (id) VALUES (1)`},
			store.Statement{SQL: `INSERT INTO probe (id) VALUES (2)`, Later: true}); err != nil {
			t.Fatal(err)
		}
		if n := probeRows(t, db); n != 2 {
			t.Fatalf("%d rows, want 2", n)
		}
	})
}

// TestLockOfAMissingUserCommitsNothing: on PostgreSQL the lock of a user's
// row goes with the statements after it, COMMIT among them; when there is
// no such user the transaction fails with ENOTFOUND, and its later writes
// never commit.
func TestLockOfAMissingUserCommitsNothing(t *testing.T) {
	ctx := context.Background()
	db := openProbeDB(t, testenv.DSN(t, "postgres"))
	before := db.Counters()
	err := store.LockUserThenLater(ctx, db, 4242, `INSERT INTO probe (id) VALUES (1)`)
	if lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		t.Fatalf("locking a missing user: %v, want ENOTFOUND", err)
	}
	if n := probeRows(t, db); n != 0 {
		t.Fatalf("%d rows after locking a missing user, want 0", n)
	}
	// BEGIN, the lock and the write in one round trip, then the rollback.
	if n := db.Counters().RoundTrips - before.RoundTrips; n != 2 {
		t.Errorf("%d round trips, want 2", n)
	}
	users := store.NewUserService(db, fastHash)
	u := &lanyard.User{Username: "locked", Email: "locked@example.com", CommonName: "Locked", State: lanyard.UserActive}
	if err := users.CreateUser(ctx, lanyard.SystemActor, u, "a password of some length"); err != nil {
		t.Fatal(err)
	}
	before = db.Counters()
	if err := store.LockUserThenLater(ctx, db, u.ID, `INSERT INTO probe (id) VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	// BEGIN, the lock, the write and COMMIT, in one round trip: the lock
	// fails on the server when it finds no user.
	if n := db.Counters().RoundTrips - before.RoundTrips; n != 1 {
		t.Errorf("%d round trips, want 1", n)
	}
	if n := probeRows(t, db); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
	if err := store.LockUserThenLater(ctx, db, u.ID, `INSERT INTO probe (id) VALUES (1)`); err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("a duplicate later write: %v, want its failure", err)
	}
}

// openProbeDB opens the database at dsn with a table probe of IDs.
func openProbeDB(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db := openDB(t, dsn)
	if err := store.Exec(db, `CREATE TABLE probe (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func probeRows(t *testing.T, db *store.DB) int {
	t.Helper()
	n, err := store.Count(db, "probe")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStartRecordsEventsInOrder: a start that replaces a waiting mobile ID
// and cancels two open processes records its events in the order of its
// steps, although on PostgreSQL the cancelled processes' rows come with a
// later statement's answer.
func TestStartRecordsEventsInOrder(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		f := newFixture(t, dsn)
		u := f.user(t)
		f.registered(t, u)
		open := &lanyard.Enrollment{PublicID: rand.Text(), UserID: u.ID, Process: "MobileIDSelfServiceProcGet", Step: lanyard.StepIntro, Options: []byte("{}")}
		if err := f.db.CreateEnrollment(ctx, lanyard.SystemActor, open); err != nil {
			t.Fatal(err)
		}
		last, err := f.db.FindAuditEvents(ctx, lanyard.AuditFilter{Limit: 1})
		if err != nil || len(last) != 1 {
			t.Fatalf("the last event: %v, %v", last, err)
		}
		e := &lanyard.Enrollment{PublicID: rand.Text(), UserID: u.ID, Process: "MobileIDSelfServiceProcGet", Options: []byte("{}")}
		m := &lanyard.MobileID{PublicID: rand.Text(), UserID: u.ID, State: lanyard.MobileIDRegistered, Process: e.Process,
			ProfileName: "MobileID", ServerName: "Smart ID", ProfileUser: u.Email}
		code := &lanyard.ActivationCode{Hash: []byte(rand.Text()), ExpiresAt: time.Now().Add(time.Hour), MobileID: m}
		if err := f.db.OpenEnrollment(ctx, lanyard.Actor{Username: u.Username}, e, false, code); err != nil {
			t.Fatal(err)
		}
		events, err := f.db.FindAuditEvents(ctx, lanyard.AuditFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range slices.Backward(events) {
			if ev.ID > last[0].ID {
				got = append(got, ev.Action)
			}
		}
		want := []string{"mobileid.set_state", "mobileid.process_cancel", "mobileid.process_cancel",
			"mobileid.process_start", "mobileid.register", "mobileid.code_issue"}
		if !slices.Equal(got, want) {
			t.Fatalf("the start's events: %v, want %v", got, want)
		}
		if e.MobileID == 0 || e.MobileID != m.ID {
			t.Fatalf("the process names mobile ID %d, the mobile ID is %d", e.MobileID, m.ID)
		}
	})
}

// TestFailedFirstStatementEndsTheTransaction: on PostgreSQL the first
// statement goes with BEGIN; when it cannot even be prepared, BEGIN never
// ran, and a statement after it must not run on its own.
func TestFailedFirstStatementEndsTheTransaction(t *testing.T) {
	ctx := context.Background()
	db := openProbeDB(t, testenv.DSN(t, "postgres"))
	err := store.IgnoreFailedThenExec(ctx, db, `SELECT nope FROM probe`, `INSERT INTO probe (id) VALUES (7)`)
	if err == nil {
		t.Error("a write after a failed first statement ran")
	}
	if n := probeRows(t, db); n != 0 {
		t.Fatalf("%d rows after the transaction rolled back, want 0", n)
	}
}

// TestSeveralStatementsInOneAfterQueued: a text of several statements
// (as a migration is) runs in a transaction whether or not BEGIN and
// queued writes are still to be sent before it.
func TestSeveralStatementsInOneAfterQueued(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openProbeDB(t, dsn)
		if err := store.ExecInTx(ctx, db, store.Statement{SQL: `INSERT INTO probe (id) VALUES (1)`, Later: true},
			store.Statement{SQL: `INSERT INTO probe (id) VALUES (2); INSERT INTO probe (id) VALUES (3)`}); err != nil {
			t.Fatal(err)
		}
		if n := probeRows(t, db); n != 3 {
			t.Fatalf("%d rows, want 3", n)
		}
	})
}
