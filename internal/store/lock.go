package store

import (
	"context"
	"fmt"

	"github.com/lanyard-id/lanyard"
)

// lockUserQuery locks a user's row (PostgreSQL).
const lockUserQuery = `SELECT 1 FROM users WHERE id = ? FOR UPDATE`

// lockUser locks the user's row until tx ends, on PostgreSQL: every
// transaction that changes several rows of one user's mobile IDs,
// processes and certificates takes it first, so that two of them never
// wait for each other's rows. SQLite transactions take the write lock when
// they begin, so it needs none.
func (tx *Tx) lockUser(ctx context.Context, userID int64) error {
	if tx.db.dialect != Postgres {
		return nil
	}
	if tx.lockedUser == userID {
		return nil
	}
	// The lock goes with the statement after it; the transaction fails
	// with ENOTFOUND when there is no such user.
	err := tx.execLaterFinding(ctx, func(err error) error { return fmt.Errorf("lock user: %w", err) },
		lanyard.Errorf(lanyard.ENOTFOUND, "There is no such user."), lockUserQuery, userID)
	if err != nil {
		return err
	}
	tx.lockedUser = userID
	return nil
}

// forUpdate is the clause that locks the rows a SELECT reads (of the table
// with alias, in a join) until the transaction ends, on PostgreSQL. SQLite
// transactions take the write lock when they begin, so it needs none.
func (tx *Tx) forUpdate(alias string) string {
	if tx.db.dialect != Postgres {
		return ""
	}
	if alias == "" {
		return " FOR UPDATE"
	}
	return " FOR UPDATE OF " + alias
}
