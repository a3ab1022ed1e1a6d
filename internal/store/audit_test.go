package store_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"slices"
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

// TestAuditEventsCostOneStatement: however many write at once, a
// transaction of one event costs one statement on PostgreSQL, which
// chains the events after they commit, in one round trip with BEGIN and
// COMMIT; and two on SQLite, whose one writer guesses the chain's head
// right every time: the head's update, then the insert.
func TestAuditEventsCostOneStatement(t *testing.T) {
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
		perEvent := int64(2)
		if db.Dialect() == store.Postgres {
			perEvent = 1
		}
		if got, want := after.Statements-before.Statements, writers*each*perEvent; got != want {
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

// TestAuditChainedAfterCommit: on PostgreSQL, events join the chain after
// they commit, in the order the chaining finds them: an event whose
// transaction began first but commits last comes last, after the events
// chained meanwhile, and nothing comes to stand before an event once
// chained. A search finds every event once, chained or not, indexed or
// not; verification counts what is not yet chained without failing.
func TestAuditChainedAfterCommit(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, testenv.DSN(t, "postgres"))
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err := db.RecordAudit(ctx, lanyard.SystemActor, "test.order", "", "before"); err != nil {
		t.Fatal(err)
	}
	commitA, rollbackA, err := store.AuditWriter(ctx, db, "test.order")
	if err != nil {
		t.Fatal(err)
	}
	defer rollbackA()
	// B begins after A, and commits first.
	if err := db.RecordAudit(ctx, lanyard.SystemActor, "test.order", "", "B"); err != nil {
		t.Fatal(err)
	}
	// Read as they are, before any chaining: both counted, none failing.
	v := auditlog.NewVerifier(key.Public(), nil)
	if err := db.EachAuditEvent(ctx, func(e *lanyard.AuditEvent) error { v.Add(e); return nil }); err != nil {
		t.Fatal(err)
	}
	if res := v.Finish(); !res.OK() || res.Events != 0 || res.Unchained != 2 || !strings.Contains(res.Line(), "2 not yet chained") {
		t.Fatalf("before the chaining: %+v, %q", res, res.Line())
	}
	found := func(when string, want int) {
		t.Helper()
		events, err := db.FindAuditEvents(ctx, lanyard.AuditFilter{Action: "test.order"})
		if err != nil || len(events) != want {
			t.Fatalf("%s: a search found %d events (%v), want %d", when, len(events), err, want)
		}
	}
	found("not chained", 2)
	if n, err := db.ChainAudit(ctx); err != nil || n != 2 {
		t.Fatalf("chained %d events while A is open (%v), want the 2 committed", n, err)
	}
	if _, err := db.IndexAuditTerms(ctx); err != nil {
		t.Fatal(err)
	}
	if err := commitA(ctx); err != nil {
		t.Fatal(err)
	}
	found("A committed, not chained", 3)
	if n, err := db.ChainAudit(ctx); err != nil || n != 1 {
		t.Fatalf("chained %d events after A committed (%v), want A's", n, err)
	}
	found("A chained, not indexed", 3)
	if _, err := db.IndexAuditTerms(ctx); err != nil {
		t.Fatal(err)
	}
	found("chained and indexed", 3)
	var order []string
	err = db.EachAuditEvent(ctx, func(e *lanyard.AuditEvent) error {
		order = append(order, e.Detail)
		return nil
	})
	if want := []string{"before", "B", ""}; err != nil || !slices.Equal(order, want) {
		t.Fatalf("the chain's order: %q (%v), want %q: A committed last", order, err, want)
	}
	if res, err := auditlog.Verify(ctx, db, key.Public()); err != nil || !res.OK() || res.Events != 3 || res.Unchained != 0 {
		t.Fatalf("verify: %+v, %v", res, err)
	}
}
