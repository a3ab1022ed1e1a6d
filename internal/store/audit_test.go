package store_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/auditlog"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestAuditChainOfManyEvents writes 10,000 events, signs a checkpoint,
// and verifies them all, measuring how long verification takes.
func TestAuditChainOfManyEvents(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		const n = 10_000
		// In batches of a hundred per transaction, to keep the test short;
		// each event is chained as it is written all the same.
		actor := lanyard.Actor{Username: "load", Addr: "127.0.0.1"}
		for i := 0; i < n; i += 100 {
			if err := db.RecordAuditBatch(ctx, actor, "test.event", 100); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.CheckpointAudit(ctx, func(seq int64, hash string, at time.Time) (*lanyard.AuditCheckpoint, error) {
			return auditlog.Sign(key, seq, hash, at)
		}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, err := auditlog.Verify(ctx, db, key.Public())
		took := time.Since(start)
		if err != nil || !res.OK() || res.Events != n || res.Uncovered != 0 {
			t.Fatalf("verify: %+v, %v", res, err)
		}
		t.Logf("verified %d events in %s", n, took.Round(time.Millisecond))
	})
}

// TestAuditChainWithConcurrentWriters has two handles on one database, as
// two instances of a cluster are, write events at once: they form one
// chain without a gap.
func TestAuditChainWithConcurrentWriters(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		instances := []interface {
			RecordAudit(context.Context, lanyard.Actor, string, string, string) error
		}{openDB(t, dsn), openDB(t, dsn)}
		var wg sync.WaitGroup
		const each = 50
		for i, db := range instances {
			for w := range 4 {
				wg.Go(func() {
					for j := range each {
						if err := db.RecordAudit(ctx, lanyard.SystemActor, "test.concurrent", "instance "+strconv.Itoa(i), strconv.Itoa(w*each+j)); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
		}
		wg.Wait()
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		res, err := auditlog.Verify(ctx, openDB(t, dsn), key.Public())
		if err != nil || !res.OK() || res.Events != int64(len(instances)*4*each) {
			t.Fatalf("verify: %+v, %v", res, err)
		}
	})
}

// TestAuditHeadGuessedRightInOneProcess: the writers of one process take
// turns at the chain's head, so each one's guess of the head is where the
// one before left it, and a transaction of one event needs one statement
// (on PostgreSQL; SQLite's one writer guesses right anyway), however many
// write at once.
func TestAuditHeadGuessedRightInOneProcess(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		if err := db.RecordAudit(ctx, lanyard.SystemActor, "test.first", "", ""); err != nil {
			t.Fatal(err)
		}
		before := db.Counters()
		const writers, each = 8, 25
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for j := range each {
					if err := db.RecordAudit(ctx, lanyard.SystemActor, "test.turns", strconv.Itoa(w), strconv.Itoa(j)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		after := db.Counters()
		// SQLite: the head's update, then the insert. PostgreSQL: a
		// savepoint, and the statement that moves the head and inserts the
		// event, sent with BEGIN and COMMIT in one round trip.
		if got, want := after.Statements-before.Statements, int64(writers*each*2); got != want {
			t.Errorf("%d transactions of one event took %d statements, want %d: a writer guessed the head wrong", writers*each, got, want)
		}
		if got := after.RoundTrips - before.RoundTrips; db.Dialect() == store.Postgres && got != writers*each {
			t.Errorf("%d transactions of one event took %d round trips, want one each", writers*each, got)
		}
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if res, err := auditlog.Verify(ctx, db, key.Public()); err != nil || !res.OK() || res.Events != writers*each+1 {
			t.Fatalf("verify: %+v, %v", res, err)
		}
	})
}

// TestAuditHeadTurnWaitEnds: on PostgreSQL, a transaction waiting for its
// turn at the chain's head gives up when its request does, goes on without
// the turn when it has waited long enough, and the turn, once free, serves
// the next.
func TestAuditHeadTurnWaitEnds(t *testing.T) {
	db := openDB(t, testenv.DSN(t, "postgres"))
	release := store.HoldHeadTurn(db)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := db.RecordAudit(ctx, lanyard.SystemActor, "test.waits", "", ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for a held turn: %v, want the deadline", err)
	}
	// Without a deadline, the wait ends after a while, and the event
	// goes in without the turn.
	if err := db.RecordAudit(context.Background(), lanyard.SystemActor, "test.without", "", ""); err != nil {
		t.Fatalf("an event while the turn is held: %v", err)
	}
	release()
	if err := db.RecordAudit(context.Background(), lanyard.SystemActor, "test.after", "", ""); err != nil {
		t.Fatal(err)
	}
	// The one that gave up left nothing behind.
	events, err := db.FindAuditEvents(context.Background(), lanyard.AuditFilter{Action: "test.waits"})
	if err != nil || len(events) != 0 {
		t.Fatalf("events of the one that gave up: %d (%v)", len(events), err)
	}
}

// TestAuditEventsBeforeTheChain: events written before the chain existed
// are chained, in the order they were written, at the next start, and new
// events follow them.
func TestAuditEventsBeforeTheChain(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		if err := db.RecordAudit(ctx, lanyard.CLIActor, "test.first", "", ""); err != nil {
			t.Fatal(err)
		}
		if err := db.InsertUnchainedAudit(ctx, 3); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordAudit(ctx, lanyard.CLIActor, "test.after", "", ""); err != nil {
			t.Fatal(err)
		}
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		res, err := auditlog.Verify(ctx, db, key.Public())
		if err != nil || !res.OK() || res.Events != 5 {
			t.Fatalf("verify: %+v, %v", res, err)
		}
	})
}
