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
