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

// repairBatch bounds the certificates one repair transaction changes.
const repairBatch = 200

// RepairCertificates brings every certificate's status to what its mobile
// ID's state asks, for whatever a crash or an older version left
// mismatched: a good certificate of a mobile ID that is not active is held
// (inactive) or revoked (locked, deleted, never activated), one on hold of
// a locked or deleted mobile ID is revoked, and a good certificate that no
// mobile ID holds, issued more than grace ago, is revoked. Each change is
// audited and owes a CRL. It returns how many certificates it changed.
func (db *DB) RepairCertificates(ctx context.Context, grace time.Duration) (int, error) {
	total := 0
	for {
		n, err := db.repairBatch(ctx, grace)
		total += n
		if err != nil {
			return total, fmt.Errorf("repair certificates: %w", err)
		}
		if n < repairBatch {
			return total, nil
		}
	}
}

// mismatch is a certificate whose status does not match its mobile ID.
type mismatch struct {
	serial   string
	mobileID string
	state    lanyard.MobileIDState
}

func (db *DB) repairBatch(ctx context.Context, grace time.Duration) (int, error) {
	n := 0
	err := db.inTx(ctx, func(tx *Tx) error {
		n = 0
		scan := func(s scanner) (mismatch, error) {
			var m mismatch
			return m, s.Scan(&m.serial, &m.mobileID, &m.state)
		}
		held, err := queryAll(ctx, tx, `SELECT c.serial, m.public_id, m.state FROM certificates c
			JOIN mobile_id_certificates mc ON mc.serial = c.serial AND mc.recovered = 0
			JOIN mobile_ids m ON m.id = mc.mobile_id
			WHERE (c.status = ? AND m.state <> ?) OR (c.status = ? AND m.state IN (?, ?, ?))
			ORDER BY c.id LIMIT ?`,
			[]any{string(lanyard.CertificateValid), string(lanyard.MobileIDActive), string(lanyard.CertificateOnHold),
				string(lanyard.MobileIDLocked), string(lanyard.MobileIDDeleted), string(lanyard.MobileIDRegistered), repairBatch}, scan)
		if err != nil {
			return err
		}
		orphans, err := queryAll(ctx, tx, `SELECT c.serial, '', 'deleted' FROM certificates c
			WHERE c.status = ? AND c.issued_at <= ?
			AND NOT EXISTS (SELECT 1 FROM mobile_id_certificates mc WHERE mc.serial = c.serial)
			ORDER BY c.id LIMIT ?`,
			[]any{string(lanyard.CertificateValid), encodeTime(tx.now.Add(-grace)), repairBatch}, scan)
		if err != nil {
			return err
		}
		for _, m := range append(held, orphans...) {
			why := "repair: the mobile ID " + m.mobileID + " is " + string(m.state)
			if m.mobileID == "" {
				why = "repair: no mobile ID holds the certificate"
			}
			action, change := statusFor(m.state, why)
			if _, changed, err := tx.changeStatus(ctx, lanyard.SystemActor, m.serial, action, change); err != nil {
				return err
			} else if changed {
				n++
			}
		}
		return nil
	})
	return n, err
}
