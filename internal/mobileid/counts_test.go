package mobileid_test

import (
	"context"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"

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
		keptScript(t, e, u)
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
		// introduction's read of the user's mobile IDs (the option script
		// is kept in memory) and the steps'; the statement that opens the
		// process checks the script's version. PostgreSQL adds the lock of
		// the user's row to the start (the enrollment takes it in the
		// statement that claims the code) and a savepoint before each
		// transaction's audit events, and saves one a transaction by
		// moving the audit chain's head and writing its events in one.
		maxFirst, maxReplace := int64(20), int64(29)
		if e.db.Dialect() == store.Postgres {
			maxFirst, maxReplace = 21, 30
		}
		if n, m := first.Statements-before.Statements, second.Statements-first.Statements; n > maxFirst || m > maxReplace {
			t.Errorf("a first-time mobile ID took %d statements and a replacement %d, want at most %d and %d", n, m, maxFirst, maxReplace)
		}
		// On PostgreSQL, what counts is the round trips: the statements of
		// a transaction go together up to the next answer it needs.
		if e.db.Dialect() == store.Postgres {
			if n, m := first.RoundTrips-before.RoundTrips, second.RoundTrips-first.RoundTrips; n > 10 || m > 17 {
				t.Errorf("a first-time mobile ID took %d round trips and a replacement %d, want at most 10 and 17", n, m)
			}
		}
	})
}

// keptScript waits until the store keeps the current option script in
// memory, as a running server does: it reads the script from the
// database until its watch of the other instances' changes is live, a
// moment after it opens. Until then an introduction costs two statements
// (the script and the user's mobile IDs); then one.
func keptScript(t *testing.T, e *env, u *lanyard.User) {
	t.Helper()
	ctx := context.Background()
	for range 200 {
		before := e.db.Counters()
		if _, err := e.svc.Intro(ctx, lanyard.Actor{Username: u.Username}, u); err != nil {
			t.Fatal(err)
		}
		if e.db.Counters().Statements-before.Statements == 1 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the option script is still read from the database at every introduction")
}
