package store

import (
	"errors"
	"strings"
	"sync/atomic"
)

// Counters are how many statements and write transactions a DB has run
// since it was opened. They make the cost of an operation measurable: the
// difference before and after it is what it cost.
type Counters struct {
	// Statements counts every statement, reads outside a transaction
	// included.
	Statements int64
	// Transactions counts the transactions begun.
	Transactions int64
	// Commits counts the commits of the database: on SQLite one commit
	// may take several transactions (groupcommit.go).
	Commits int64
	// RoundTrips counts, on PostgreSQL, the answers waited for: each
	// statement outside a transaction, and each batch of a transaction's
	// statements sent together (pgtx.go), but not pgx's preparation of a
	// statement the first time a connection runs it. Zero on SQLite.
	RoundTrips int64
}

// counters is the live form of Counters.
type counters struct {
	statements   atomic.Int64
	transactions atomic.Int64
	commits      atomic.Int64
	roundTrips   atomic.Int64
}

// Counters returns the statement and transaction counts so far.
func (db *DB) Counters() Counters {
	return Counters{Statements: db.count.statements.Load(), Transactions: db.count.transactions.Load(),
		Commits: db.count.commits.Load(), RoundTrips: db.count.roundTrips.Load()}
}

// countStatement counts a statement outside a transaction: on
// PostgreSQL, a round trip.
func (db *DB) countStatement() {
	db.count.statements.Add(1)
	if db.pg != nil {
		db.count.roundTrips.Add(1)
	}
}

// errInjected is the failure a fault hook injects.
var errInjected = errors.New("injected database failure")

// isWrite reports whether a statement changes rows.
func isWrite(query string) bool {
	q := strings.TrimSpace(query)
	for _, verb := range []string{"INSERT", "UPDATE", "DELETE"} {
		if len(q) >= len(verb) && strings.EqualFold(q[:len(verb)], verb) {
			return true
		}
	}
	// A statement with a WITH clause writes when any of its parts does
	// (PostgreSQL's data-modifying WITH).
	if len(q) >= 4 && strings.EqualFold(q[:4], "WITH") {
		u := strings.ToUpper(q)
		return strings.Contains(u, "INSERT INTO") || strings.Contains(u, "UPDATE ") || strings.Contains(u, "DELETE FROM")
	}
	return false
}

// beforeStatement counts a statement of tx and, when the fault hook asks
// for it, abandons the transaction before a write, as a connection that
// dies there would: the write and everything after it fail, and nothing of
// the transaction commits.
func (tx *Tx) beforeStatement(query string) {
	tx.db.count.statements.Add(1)
	if !isWrite(query) {
		return
	}
	tx.writes++
	if !tx.failed && tx.db.failWrite != nil && tx.db.failWrite(tx.writes) {
		tx.failed = true
		tx.abandon()
	}
}
