package mobileid_test

import (
	"testing"

	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestStatementCounts reports what a first-time mobile ID and a
// replacement cost the database, from the introduction to Next. Run it with
// -v to see the numbers docs/performance.md quotes.
func TestStatementCounts(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		u := e.addUser(t, "alice")
		before := e.db.Counters()
		e.getMobileID(t, u, false)
		first := e.db.Counters()
		e.getMobileID(t, u, true)
		second := e.db.Counters()
		t.Logf("first-time mobile ID: %d statements in %d transactions, %d round trips",
			first.Statements-before.Statements, first.Transactions-before.Transactions, first.RoundTrips-before.RoundTrips)
		t.Logf("replacement: %d statements in %d transactions, %d round trips",
			second.Statements-first.Statements, second.Transactions-first.Transactions, second.RoundTrips-first.RoundTrips)
		// One transaction for each thing the user or the app does: leave
		// the introduction (which issues the code the next page shows),
		// enroll, Next.
		if n, m := first.Transactions-before.Transactions, second.Transactions-first.Transactions; n != 3 || m != 3 {
			t.Fatalf("a first-time mobile ID took %d transactions and a replacement %d, want 3 each", n, m)
		}
		// The statements as docs/performance.md counts them: the
		// introduction's two reads (three with a mobile ID to replace) and
		// the steps'; the start reads no script, since the statement that
		// opens the process checks the introduction's. PostgreSQL adds the
		// lock of the user's row to the start (the enrollment takes it in
		// the statement that claims the code) and a savepoint before each
		// transaction's audit events, and saves one a transaction by
		// moving the audit chain's head and writing its events in one.
		maxFirst, maxReplace := int64(21), int64(30)
		if e.db.Dialect() == store.Postgres {
			maxFirst, maxReplace = 22, 31
		}
		if n, m := first.Statements-before.Statements, second.Statements-first.Statements; n > maxFirst || m > maxReplace {
			t.Errorf("a first-time mobile ID took %d statements and a replacement %d, want at most %d and %d", n, m, maxFirst, maxReplace)
		}
		// On PostgreSQL, what counts is the round trips: the statements of
		// a transaction go together up to the next answer it needs.
		if e.db.Dialect() == store.Postgres {
			if n, m := first.RoundTrips-before.RoundTrips, second.RoundTrips-first.RoundTrips; n > 11 || m > 18 {
				t.Errorf("a first-time mobile ID took %d round trips and a replacement %d, want at most 11 and 18", n, m)
			}
		}
	})
}
