package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lanyard-id/lanyard"
)

// FailInterrupted ends enrollments interrupted between the use of their
// code and the activation of their mobile ID.
func (db *DB) FailInterrupted(ctx context.Context, olderThan time.Duration) (int, error) {
	var n int
	err := db.inTx(ctx, func(tx *Tx) error {
		stuck, err := queryAll(ctx, tx, `SELECT `+prefixed("e.", enrollmentColumns)+` FROM enrollments e JOIN mobile_ids m ON m.id = e.mobile_id
			WHERE e.code_hash IS NULL AND m.state = ? AND e.step IN (?, ?) AND e.updated_at < ?`,
			[]any{string(lanyard.MobileIDRegistered), string(lanyard.StepActivation), string(lanyard.StepFinished), encodeTime(tx.now.Add(-olderThan))},
			scanEnrollment)
		if err != nil {
			return err
		}
		for _, e := range stuck {
			// A claim, as in ExpireEnrollments: each process fails once.
			res, err := tx.exec(ctx, `UPDATE enrollments SET step = ?, updated_at = ? WHERE id = ? AND step IN (?, ?)`,
				string(lanyard.StepFailed), encodeTime(tx.now), e.ID, string(lanyard.StepActivation), string(lanyard.StepFinished))
			if err != nil {
				return err
			}
			if rows, _ := res.RowsAffected(); rows != 1 {
				continue
			}
			n++
			if err := tx.deleteWaitingMobileID(ctx, e.MobileID); err != nil {
				return err
			}
			if err := tx.insertAudit(ctx, lanyard.SystemActor, "mobileid.process_fail", e.Process,
				fmt.Sprintf("process %s: interrupted after its code was used; the mobile ID was not created", e.PublicID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("fail interrupted enrollments: %w", err)
	}
	return n, nil
}

// OrphanedCertificates lists valid certificates no mobile ID holds.
func (db *DB) OrphanedCertificates(ctx context.Context, olderThan time.Duration) ([]string, error) {
	serials, err := queryAll(ctx, db, `SELECT c.serial FROM certificates c
		WHERE c.status = 'valid' AND c.issued_at < ?
		AND NOT EXISTS (SELECT 1 FROM mobile_id_certificates mc WHERE mc.serial = c.serial)
		ORDER BY c.issued_at LIMIT 100`,
		[]any{encodeTime(db.Now().Add(-olderThan))}, func(s scanner) (string, error) {
			var serial string
			return serial, s.Scan(&serial)
		})
	if err != nil {
		return nil, fmt.Errorf("find orphaned certificates: %w", err)
	}
	return serials, nil
}
