package store

import (
	"context"
	"strconv"

	"github.com/lanyard-id/lanyard"
)

// RecordAuditBatch writes n audit events in one transaction, each chained
// as any event is, for tests that need many.
func (db *DB) RecordAuditBatch(ctx context.Context, actor lanyard.Actor, action string, n int) error {
	return db.inTx(ctx, func(tx *Tx) error {
		for i := range n {
			if err := tx.insertAudit(ctx, actor, action, "subject "+strconv.Itoa(i), "detail"); err != nil {
				return err
			}
		}
		return nil
	})
}

// InsertUnchainedAudit writes n events as a version of Lanyard before the
// chain wrote them: without number or hashes.
func (db *DB) InsertUnchainedAudit(ctx context.Context, n int) error {
	return db.inTx(ctx, func(tx *Tx) error {
		for i := range n {
			if _, err := tx.exec(ctx, `INSERT INTO audit_log (at, actor, addr, action, subject, detail) VALUES (?, 'cli', 'cli', 'user.create', ?, '')`,
				encodeTime(tx.now), "old"+strconv.Itoa(i)); err != nil {
				return err
			}
		}
		return nil
	})
}
