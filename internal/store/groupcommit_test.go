package store_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// queueBehind starts a transaction that inserts v into the table t and
// returns fail, once the transactions already waiting for the writer
// number waiting; it returns when this one waits too. Its result arrives
// on done.
func queueBehind(t *testing.T, db *store.DB, waiting int, v string, fail error, done chan<- error) {
	t.Helper()
	go func() {
		done <- db.WriteInTx(context.Background(), false, func(exec func(string, ...any) error) error {
			if err := exec(`INSERT INTO t (v) VALUES (?)`, v); err != nil {
				return err
			}
			return fail
		})
	}()
	for store.WritersWaiting(db) != waiting+1 {
		time.Sleep(time.Millisecond)
	}
}

// holdWriter starts a transaction that inserts "first" into t, holds
// the writer until release is closed and returns fail; it returns once the
// transaction holds the writer.
func holdWriter(t *testing.T, db *store.DB, release <-chan struct{}, fail error, done chan<- error) {
	t.Helper()
	started := make(chan struct{})
	go func() {
		done <- db.WriteInTx(context.Background(), false, func(exec func(string, ...any) error) error {
			close(started)
			<-release
			if err := exec(`INSERT INTO t (v) VALUES ('first')`); err != nil {
				return err
			}
			return fail
		})
	}()
	<-started
}

func sqliteDB(t *testing.T) *store.DB {
	db := openDB(t, testenv.DSN(t, "sqlite"))
	if err := store.Exec(db, `CREATE TABLE t (v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestGroupCommitKeepsEachWhole: transactions that wait for SQLite's
// writer while another writes commit together, once; one of them that
// fails is rolled back alone, and none returns before the commit.
func TestGroupCommitKeepsEachWhole(t *testing.T) {
	db := sqliteDB(t)
	before := db.Counters()
	release := make(chan struct{})
	first, second, failing, last := make(chan error, 1), make(chan error, 1), make(chan error, 1), make(chan error, 1)
	holdWriter(t, db, release, nil, first)
	queueBehind(t, db, 0, "second", nil, second)
	no := errors.New("refused")
	queueBehind(t, db, 1, "failing", no, failing)
	queueBehind(t, db, 2, "last", nil, last)
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// The first returned: the last of its group has committed too.
	if n, err := store.Count(db, "t"); err != nil || n != 3 {
		t.Fatalf("after the first returned, %d rows committed (%v), want 3", n, err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if err := <-failing; !errors.Is(err, no) {
		t.Fatalf("failing transaction: %v", err)
	}
	if err := <-last; err != nil {
		t.Fatal(err)
	}
	after := db.Counters()
	if tx, commits := after.Transactions-before.Transactions, after.Commits-before.Commits; tx != 4 || commits != 1 {
		t.Errorf("%d transactions took %d commits, want 4 in 1", tx, commits)
	}
	if n, err := store.Count(db, "t"); err != nil || n != 3 {
		t.Fatalf("%d rows (%v), want 3: the failed transaction's row must be gone", n, err)
	}
}

// TestGroupCommitFirstFails: the first of a group, which has no
// savepoint, fails alone; those waiting behind it commit together.
func TestGroupCommitFirstFails(t *testing.T) {
	db := sqliteDB(t)
	before := db.Counters()
	release := make(chan struct{})
	first, second, third := make(chan error, 1), make(chan error, 1), make(chan error, 1)
	no := errors.New("refused")
	holdWriter(t, db, release, no, first)
	queueBehind(t, db, 0, "second", nil, second)
	queueBehind(t, db, 1, "third", nil, third)
	close(release)
	if err := <-first; !errors.Is(err, no) {
		t.Fatalf("first transaction: %v", err)
	}
	for _, c := range []chan error{second, third} {
		if err := <-c; err != nil {
			t.Fatal(err)
		}
	}
	if n, err := store.Count(db, "t"); err != nil || n != 2 {
		t.Fatalf("%d rows (%v), want 2: the first's row must be gone", n, err)
	}
	if commits := db.Counters().Commits - before.Commits; commits != 1 {
		t.Errorf("%d commits for the two that waited, want 1", commits)
	}
}

// TestGroupCommitSoloWaitsForNoOne: a long transaction marked solo
// neither joins the group before it, whose members learn of their commit
// before it ends, nor takes the ones after it into its own.
func TestGroupCommitSoloWaitsForNoOne(t *testing.T) {
	db := sqliteDB(t)
	before := db.Counters()
	release, soloRelease, soloStarted := make(chan struct{}), make(chan struct{}), make(chan struct{})
	first, solo, after := make(chan error, 1), make(chan error, 1), make(chan error, 1)
	holdWriter(t, db, release, nil, first)
	go func() {
		solo <- db.WriteInTx(context.Background(), true, func(exec func(string, ...any) error) error {
			close(soloStarted)
			<-soloRelease
			return exec(`INSERT INTO t (v) VALUES ('solo')`)
		})
	}()
	for store.WritersWaiting(db) != 1 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	<-soloStarted
	// The solo transaction holds the writer: the first has committed,
	// without waiting for it.
	select {
	case err := <-first:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		close(soloRelease)
		t.Fatal("the transaction before the solo one waits for it to commit")
	}
	if n, err := store.Count(db, "t"); err != nil || n != 1 {
		t.Fatalf("%d rows (%v) while the solo transaction runs, want the first's", n, err)
	}
	queueBehind(t, db, 0, "after", nil, after)
	close(soloRelease)
	if err := <-solo; err != nil {
		t.Fatal(err)
	}
	if err := <-after; err != nil {
		t.Fatal(err)
	}
	if commits := db.Counters().Commits - before.Commits; commits != 3 {
		t.Errorf("%d commits, want 3: the solo transaction's own", commits)
	}
}

// TestGroupCommitLostTogether: when the database transaction of a group
// is lost (here a member rolls it back whole, as SQLite does on some
// failures), every member that was done with it fails and nothing of them
// stays; the next transactions start afresh.
func TestGroupCommitLostTogether(t *testing.T) {
	db := sqliteDB(t)
	release := make(chan struct{})
	first, second, breaking := make(chan error, 1), make(chan error, 1), make(chan error, 1)
	holdWriter(t, db, release, nil, first)
	queueBehind(t, db, 0, "second", nil, second)
	go func() {
		breaking <- db.WriteInTx(context.Background(), false, func(exec func(string, ...any) error) error {
			return exec(`ROLLBACK`)
		})
	}()
	for store.WritersWaiting(db) != 2 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	for name, c := range map[string]chan error{"first": first, "second": second, "breaking": breaking} {
		if err := <-c; err == nil {
			t.Errorf("%s transaction: no error, though its group was lost", name)
		}
	}
	if n, err := store.Count(db, "t"); err != nil || n != 0 {
		t.Fatalf("%d rows (%v) of a lost group, want 0", n, err)
	}
	if err := db.WriteInTx(context.Background(), false, func(exec func(string, ...any) error) error {
		return exec(`INSERT INTO t (v) VALUES ('after')`)
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := store.Count(db, "t"); err != nil || n != 1 {
		t.Fatalf("%d rows (%v) after the next transaction, want 1", n, err)
	}
}

// TestGroupCommitUnderLoad: many writers at once, some failing, on SQLite
// and PostgreSQL: every transaction that returned nil committed whole and
// no failed one left a row; on SQLite fewer commits than transactions.
func TestGroupCommitUnderLoad(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		db := openDB(t, dsn)
		if err := store.Exec(db, `CREATE TABLE t (v TEXT NOT NULL, part INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		before := db.Counters()
		const writers, each = 8, 40
		var wg sync.WaitGroup
		var mu sync.Mutex
		committed := 0
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					fail := (w+i)%5 == 0
					err := db.WriteInTx(context.Background(), false, func(exec func(string, ...any) error) error {
						for part := range 2 {
							if err := exec(`INSERT INTO t (v, part) VALUES (?, ?)`, strconv.Itoa(w)+"/"+strconv.Itoa(i), part); err != nil {
								return err
							}
						}
						if fail {
							return errors.New("refused")
						}
						return nil
					})
					if (err != nil) != fail {
						t.Errorf("writer %d, transaction %d: %v", w, i, err)
					}
					if err == nil {
						mu.Lock()
						committed++
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if n, err := store.Count(db, "t"); err != nil || n != 2*committed {
			t.Fatalf("%d rows (%v), want %d: 2 for each of the %d committed", n, err, 2*committed, committed)
		}
		after := db.Counters()
		tx, commits := after.Transactions-before.Transactions, after.Commits-before.Commits
		t.Logf("%d transactions, %d commits", tx, commits)
		if db.Dialect() == store.SQLite && commits >= tx {
			t.Errorf("%d transactions took %d commits: none shared one", tx, commits)
		}
	})
}
