package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanyard-id/lanyard"
)

// Group commit on SQLite. The file has one writer connection, so its
// transactions run one after the other. Most of a commit's cost is the
// pages it appends to the write-ahead log, and transactions that follow
// each other touch many of the same pages: the newest rows of the audit
// log and its indexes, of the processes, mobile IDs and certificates, the
// chain's head. So a transaction that ends while others wait for the
// writer does not commit on its own: it releases its savepoint inside one
// database transaction, hands the writer to the next, and the last of the
// group (the one that finds no one waiting, or the groupLimit-th) commits
// them all at once. Each transaction is still whole or nothing: those
// after the first run inside a savepoint of their own, and one that fails
// is rolled back to it, without the others; the first, when it fails, has
// the database transaction to itself and rolls it back. No transaction
// returns before the commit that holds it, and one whose group failed to
// commit returns that error.
//
// A transaction that may hold the writer long (an import, a directory
// sync, a CRL of many entries) is solo: the group before it commits
// first, and it commits alone, so that no one's commit waits for it.
//
// A transaction waits for the writer at most writerWait, in the order
// they asked.

// groupLimit bounds the transactions one commit takes, and so the wait of
// the first for the last.
const groupLimit = 8

// writeQueue hands SQLite's writer from one transaction to the next.
type writeQueue struct {
	mu   sync.Mutex
	busy bool            // a transaction holds the writer
	wait []chan struct{} // closed to hand the writer to its waiter, in order
	// open is the database transaction under way, which the holder of the
	// writer joins; only the holder touches it.
	open *writeGroup
	// head is forgotten when a group fails: its members may have moved it.
	head    *auditHead
	commits *atomic.Int64
}

// writeGroup is one database transaction that several store transactions
// share, each in a savepoint of its own.
type writeGroup struct {
	conn    *sql.Conn
	tx      *sql.Tx
	members int           // savepoints taken so far
	done    chan struct{} // closed once it committed or failed
	err     error         // why it failed, once done
	// solo is set for a transaction that may hold the writer long (an
	// import, a directory sync, a large CRL): the group before it
	// commits first, and it commits alone, so that no one waits for it
	// to learn that their own commit is done.
	solo bool
}

// take waits for the writer, at most writerWait.
func (q *writeQueue) take(ctx context.Context) error {
	q.mu.Lock()
	if !q.busy {
		q.busy = true
		q.mu.Unlock()
		return nil
	}
	turn := make(chan struct{})
	q.wait = append(q.wait, turn)
	q.mu.Unlock()
	timer := time.NewTimer(writerWait)
	defer timer.Stop()
	var why error
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
		why = fmt.Errorf("wait for the database: %w", ctx.Err())
	case <-timer.C:
		why = lanyard.Errorf(lanyard.EUNAVAILABLE, "The database is busy. Try again in a moment.")
	}
	q.mu.Lock()
	if i := slices.Index(q.wait, turn); i >= 0 {
		q.wait = slices.Delete(q.wait, i, i+1)
		q.mu.Unlock()
		return why
	}
	q.mu.Unlock()
	// Handed the writer just as the wait ended: the group goes on without
	// this transaction.
	q.passOn()
	return why
}

// passOn ends the current holder's turn: while others wait and the group
// has room, the next one joins the open group; otherwise the group
// commits and the writer goes to the next one, or is free.
func (q *writeQueue) passOn() {
	q.mu.Lock()
	if g := q.open; g != nil && len(q.wait) > 0 && g.members < groupLimit && !g.solo {
		q.handOver()
		q.mu.Unlock()
		return
	}
	q.mu.Unlock()
	q.commitOpen()
	q.mu.Lock()
	if len(q.wait) > 0 {
		q.handOver()
	} else {
		q.busy = false
	}
	q.mu.Unlock()
}

// commitOpen commits the open group, if any; the holder of the writer
// calls it.
func (q *writeQueue) commitOpen() {
	g := q.open
	if g == nil {
		return
	}
	q.open = nil
	q.commits.Add(1)
	if err := g.tx.Commit(); err != nil {
		g.err = fmt.Errorf("commit: %w", err)
		q.head.forget()
	}
	g.end()
}

// handOver gives the writer to the first waiter; q.mu is held.
func (q *writeQueue) handOver() {
	turn := q.wait[0]
	q.wait = q.wait[1:]
	close(turn)
}

// abort rolls the open group back, for a reason that leaves its database
// transaction unusable; every member that was done with it fails.
func (q *writeQueue) abort(err error) {
	g := q.open
	q.open = nil
	_ = g.tx.Rollback()
	g.err = err
	q.head.forget()
	g.end()
}

func (g *writeGroup) end() {
	_ = g.conn.Close()
	close(g.done)
}

// join takes the writer and a savepoint in the open group, or in a new
// one; a solo transaction (see writeGroup.solo) always in a new one.
func (db *DB) join(ctx context.Context, solo bool) (*writeGroup, string, error) {
	q := &db.writers
	if err := q.take(ctx); err != nil {
		return nil, "", err
	}
	if solo {
		q.commitOpen()
	}
	if q.open == nil {
		g, err := db.openGroup(ctx)
		if err != nil {
			q.passOn()
			return nil, "", err
		}
		g.solo = solo
		q.open = g
	}
	g := q.open
	g.members++
	if g.members == 1 {
		// The first of its group needs no savepoint: were it to fail,
		// the database transaction would hold nothing of another.
		return g, "", nil
	}
	name := "tx" + strconv.Itoa(g.members)
	if _, err := g.tx.ExecContext(context.WithoutCancel(ctx), "SAVEPOINT "+name); err != nil {
		q.abort(fmt.Errorf("begin transaction: %w", err))
		q.passOn()
		return nil, "", fmt.Errorf("begin transaction: %w", err)
	}
	return g, name, nil
}

// openGroup begins a database transaction on the writer connection. It is
// not bound to ctx: it outlives the request that begins it.
func (db *DB) openGroup(ctx context.Context) (*writeGroup, error) {
	wctx, cancel := context.WithTimeout(ctx, writerWait)
	defer cancel()
	conn, err := db.write.Conn(wctx)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, lanyard.Errorf(lanyard.EUNAVAILABLE, "The database is busy. Try again in a moment.")
		}
		return nil, fmt.Errorf("wait for the database: %w", err)
	}
	tx, err := conn.BeginTx(context.Background(), nil)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return &writeGroup{conn: conn, tx: tx, done: make(chan struct{})}, nil
}

// leave ends tx's part in its group: its savepoint is released (commit)
// or rolled back, and the writer passed on. A released transaction then
// waits for the group's commit and returns its error.
func (tx *Tx) leave(commit bool) error {
	g, q := tx.group, &tx.db.writers
	tx.group = nil
	var err error
	switch {
	case tx.savepoint == "" && commit:
	case tx.savepoint == "":
		// The first of the group, alone in it: the whole database
		// transaction goes.
		q.open = nil
		_ = g.tx.Rollback()
		g.end()
	case commit:
		_, err = g.tx.Exec("RELEASE " + tx.savepoint)
	default:
		if _, err = g.tx.Exec("ROLLBACK TO " + tx.savepoint); err == nil {
			_, err = g.tx.Exec("RELEASE " + tx.savepoint)
		}
	}
	if err != nil {
		// The database transaction is gone (a failed write can roll it
		// back whole): the others of the group are lost with it.
		q.abort(fmt.Errorf("commit: %w", err))
		q.passOn()
		return fmt.Errorf("commit: %w", err)
	}
	q.passOn()
	if !commit {
		return nil
	}
	<-g.done
	return g.err
}
