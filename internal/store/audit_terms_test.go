package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestAuditSearchAcrossTheMark: a search by actor, action or subject, with
// or without a time and a page, finds the same events, newest first,
// whether they are indexed already, not yet, or some of each; and indexing
// twice, or from two handles, indexes nothing twice.
func TestAuditSearchAcrossTheMark(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, other := openDB(t, dsn), openDB(t, dsn)
		record := func(from, to int) {
			for i := from; i < to; i++ {
				actor := lanyard.Actor{Username: fmt.Sprintf("user%d", i%3), Addr: "127.0.0.1"}
				if err := db.RecordAudit(ctx, actor, fmt.Sprintf("test.action%d", i%4), fmt.Sprintf("subject%d", i%5), fmt.Sprint(i)); err != nil {
					t.Fatal(err)
				}
			}
		}
		filters := []lanyard.AuditFilter{
			{Actor: "user1"}, {Action: "test.action2"}, {Subject: "subject3"},
			{Actor: "user0", Action: "test.action0"}, {Actor: "user2", Subject: "subject4", Action: "test.action1"},
			{Subject: "subject1", Limit: 3}, {Actor: "nobody"},
		}
		// want is what a search must return: the matching events of the
		// whole log, newest first, read without the terms.
		want := func(f lanyard.AuditFilter) []string {
			all, err := db.FindAuditEvents(ctx, lanyard.AuditFilter{Limit: 100_000})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range all {
				if (f.Actor == "" || e.Actor == f.Actor) && (f.Action == "" || e.Action == f.Action) && (f.Subject == "" || e.Subject == f.Subject) &&
					(f.BeforeID == 0 || e.ID < f.BeforeID) {
					out = append(out, e.Detail)
				}
			}
			if f.Limit > 0 && len(out) > f.Limit {
				out = out[:f.Limit]
			}
			return out
		}
		check := func(stage string) {
			t.Helper()
			for _, f := range filters {
				events, err := db.FindAuditEvents(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, e := range events {
					got = append(got, e.Detail)
				}
				if w := want(f); !slices.Equal(got, w) {
					t.Errorf("%s: %+v found %v, want %v", stage, f, got, w)
				}
				// Page by page, two at a time, to the end.
				var paged []string
				page := f
				page.Limit = 2
				for {
					events, err := db.FindAuditEvents(ctx, page)
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range events {
						paged = append(paged, e.Detail)
					}
					if len(events) < 2 {
						break
					}
					page.BeforeID = events[len(events)-1].ID
				}
				all := f
				all.Limit = 0
				if w := want(lanyard.AuditFilter{Actor: f.Actor, Action: f.Action, Subject: f.Subject, Limit: 100_000}); !slices.Equal(paged, w) {
					t.Errorf("%s: %+v in pages found %v, want %v", stage, all, paged, w)
				}
			}
		}
		record(0, 30)
		check("none indexed")
		if n, err := db.IndexAuditTerms(ctx); err != nil || n < 30 {
			t.Fatalf("indexed %d (%v), want at least the 30 recorded", n, err)
		}
		check("all indexed")
		record(30, 50)
		check("some indexed")
		if _, err := other.IndexAuditTerms(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := db.IndexAuditTerms(ctx); err != nil || n != 0 {
			t.Fatalf("indexed %d again (%v), want 0", n, err)
		}
		check("indexed by another handle")
	})
}

// TestAuditIndexingIdleWritesNothing: with every event indexed, the
// indexing begins no transaction.
func TestAuditIndexingIdleWritesNothing(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		if err := db.RecordAudit(ctx, lanyard.SystemActor, "test.one", "s", ""); err != nil {
			t.Fatal(err)
		}
		if n, err := db.IndexAuditTerms(ctx); err != nil || n == 0 {
			t.Fatalf("indexed %d (%v), want the new events", n, err)
		}
		before := db.Counters()
		if n, err := db.IndexAuditTerms(ctx); err != nil || n != 0 {
			t.Fatalf("indexed %d (%v) of an indexed log", n, err)
		}
		if tx := db.Counters().Transactions - before.Transactions; tx != 0 {
			t.Errorf("an idle indexing began %d transactions, want 0", tx)
		}
	})
}

// TestAuditTermsInBatches: events of more than one batch are all indexed,
// each by its actor, action and subject where it has one, and once.
func TestAuditTermsInBatches(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		if _, err := db.IndexAuditTerms(ctx); err != nil {
			t.Fatal(err)
		}
		before, err := store.AuditTerms(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		actor := lanyard.Actor{Username: "batcher", Addr: "127.0.0.1"}
		if err := db.RecordAuditBatch(ctx, actor, "test.batch", 2500); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordAudit(ctx, actor, "test.nosubject", "", ""); err != nil {
			t.Fatal(err)
		}
		n, err := db.IndexAuditTerms(ctx)
		if err != nil || n != 2501 {
			t.Fatalf("indexed %d (%v), want 2501", n, err)
		}
		events, err := db.FindAuditEvents(ctx, lanyard.AuditFilter{Limit: 100_000})
		if err != nil {
			t.Fatal(err)
		}
		want := append(slices.Clone(before), termsOf(events[:n])...)
		got, err := store.AuditTerms(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("audit_terms has %d rows, want %d", len(got), len(want))
		}
		if n, err := db.IndexAuditTerms(ctx); err != nil || n != 0 {
			t.Errorf("indexed %d again (%v), want 0", n, err)
		}
	})
}

// TestAuditTermsAfterTheMarkSetBack: with the mark set back below events
// already indexed, the next indexing still adds each missing term once
// and moves the mark to the end.
func TestAuditTermsAfterTheMarkSetBack(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		actor := lanyard.Actor{Username: "restorer", Addr: "127.0.0.1"}
		if err := db.RecordAuditBatch(ctx, actor, "test.first", 20); err != nil {
			t.Fatal(err)
		}
		if _, err := db.IndexAuditTerms(ctx); err != nil {
			t.Fatal(err)
		}
		indexed, err := store.AuditTerms(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		events, err := db.FindAuditEvents(ctx, lanyard.AuditFilter{Limit: 100_000})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.SetAuditTermsMark(ctx, db, events[10].Seq); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordAuditBatch(ctx, actor, "test.second", 5); err != nil {
			t.Fatal(err)
		}
		n, err := db.IndexAuditTerms(ctx)
		if err != nil || n != 15 {
			t.Fatalf("indexed %d (%v), want the 10 after the mark and the 5 new", n, err)
		}
		got, err := store.AuditTerms(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(indexed) + 5*3; len(got) != want {
			t.Errorf("audit_terms has %d rows, want %d", len(got), want)
		}
		events, err = db.FindAuditEvents(ctx, lanyard.AuditFilter{Limit: 100_000})
		if err != nil {
			t.Fatal(err)
		}
		want := termsOf(events)
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("audit_terms holds %q, want the terms of every event, %q", got, want)
		}
		if n, err := db.IndexAuditTerms(ctx); err != nil || n != 0 {
			t.Errorf("indexed %d again (%v), want 0: the mark did not reach the end", n, err)
		}
	})
}

// termsOf returns the search terms of events as store.AuditTerms gives
// them: each event's actor, action and subject where it has one.
func termsOf(events []*lanyard.AuditEvent) []string {
	var terms []string
	for _, e := range events {
		for kind, term := range []string{1: e.Actor, 2: e.Action, 3: e.Subject} {
			if term != "" {
				terms = append(terms, fmt.Sprintf("%d %s %d", kind, term, e.ID))
			}
		}
	}
	return terms
}

// BenchmarkIndexAuditTerms indexes the search terms of b.N events, written
// beforehand in batches of a thousand, each event of its own subject, as
// a certificate's serial or a mobile ID's ID is.
func BenchmarkIndexAuditTerms(b *testing.B) {
	for _, engine := range testenv.Engines {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			db := testenv.OpenDB(b, testenv.DSN(b, engine))
			if _, err := db.IndexAuditTerms(ctx); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i += 1000 {
				actor := lanyard.Actor{Username: fmt.Sprintf("user%d", i/1000%7), Addr: "127.0.0.1"}
				if err := db.RecordAuditBatch(ctx, actor, "test.index", min(1000, b.N-i)); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			n, err := db.IndexAuditTerms(ctx)
			if err != nil || n != b.N {
				b.Fatalf("indexed %d (%v), want %d", n, err, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
