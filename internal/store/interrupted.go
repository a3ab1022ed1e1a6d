package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/lanyard-id/lanyard"
)

// FailInterrupted ends enrollments interrupted between the use of their
// code and the activation of their mobile ID. The scan reads outside any
// transaction, so that on SQLite it holds up no writer; each process it
// finds is failed in a transaction of its own.
func (db *DB) FailInterrupted(ctx context.Context, olderThan time.Duration) (int, error) {
	// From the registered mobile IDs, a few, by their state's index, to
	// their processes: the processes without a code are nearly all of
	// history. CROSS JOIN keeps SQLite to that order, and the test for no
	// code is inside a CASE so that it does not take the code's index.
	stuck, err := queryAll(ctx, db, `SELECT `+prefixed("e.", enrollmentColumns)+` FROM mobile_ids m CROSS JOIN enrollments e
		WHERE e.mobile_id = m.id AND m.state = ? AND CASE WHEN e.code_hash IS NULL THEN 1 ELSE 0 END = 1 AND e.step IN (?, ?) AND e.updated_at < ?`,
		[]any{string(lanyard.MobileIDRegistered), string(lanyard.StepActivation), string(lanyard.StepFinished), encodeTime(db.Now().Add(-olderThan))},
		scanEnrollment)
	if err != nil || len(stuck) == 0 {
		return 0, err
	}
	n := 0
	for _, e := range stuck {
		failed := false
		err := db.inTx(ctx, func(tx *Tx) error {
			failed = false
			if err := tx.lockUser(ctx, e.UserID); err != nil {
				return err
			}
			// A claim, as in ExpireEnrollments: each process fails once.
			res, err := tx.exec(ctx, `UPDATE enrollments SET step = ?, updated_at = ? WHERE id = ? AND code_hash IS NULL AND step IN (?, ?)`,
				string(lanyard.StepFailed), encodeTime(tx.now), e.ID, string(lanyard.StepActivation), string(lanyard.StepFinished))
			if err != nil {
				return err
			}
			if rows, _ := res.RowsAffected(); rows != 1 {
				return nil
			}
			failed = true
			if err := tx.deleteWaitingMobileID(ctx, e.MobileID); err != nil {
				return err
			}
			return tx.insertAudit(ctx, lanyard.SystemActor, "mobileid.process_fail", e.Process,
				fmt.Sprintf("process %s: interrupted after its code was used; the mobile ID was not created", e.PublicID))
		})
		if err != nil {
			return n, fmt.Errorf("fail interrupted enrollments: %w", err)
		}
		if failed {
			n++
		}
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
// audited and owes a CRL. The scans read outside any transaction; each
// certificate they find is checked again, and changed, in a transaction
// of its own. It returns how many certificates it changed.
func (db *DB) RepairCertificates(ctx context.Context, grace time.Duration) (int, error) {
	total := 0
	for {
		found, err := db.mismatches(ctx, grace)
		if err != nil {
			return total, fmt.Errorf("repair certificates: %w", err)
		}
		if len(found) == 0 {
			return total, nil
		}
		n, err := db.repair(ctx, found)
		total += n
		if err != nil {
			return total, fmt.Errorf("repair certificates: %w", err)
		}
		if len(found) < repairBatch || n == 0 {
			return total, nil
		}
	}
}

// mismatch is a certificate whose status may not match its mobile ID:
// mobileID is 0 for a certificate that no mobile ID holds.
type mismatch struct {
	serial   string
	userID   int64
	mobileID int64
}

// mismatches finds up to repairBatch of each kind of mismatch.
func (db *DB) mismatches(ctx context.Context, grace time.Duration) ([]mismatch, error) {
	scan := func(s scanner) (mismatch, error) {
		var m mismatch
		return m, s.Scan(&m.serial, &m.userID, &m.mobileID)
	}
	// Both kinds start from the certificates' status index, valid or on
	// hold: the revoked ones, which are most of history, are never read.
	held, err := queryAll(ctx, db, `SELECT c.serial, c.user_id, m.id FROM certificates c
		JOIN mobile_id_certificates mc ON mc.serial = c.serial AND mc.recovered = 0
		JOIN mobile_ids m ON m.id = mc.mobile_id
		WHERE c.status IN (?, ?) AND ((c.status = ? AND m.state <> ?) OR (c.status = ? AND m.state IN (?, ?, ?)))
		ORDER BY c.id LIMIT `+strconv.Itoa(repairBatch),
		[]any{string(lanyard.CertificateValid), string(lanyard.CertificateOnHold),
			string(lanyard.CertificateValid), string(lanyard.MobileIDActive), string(lanyard.CertificateOnHold),
			string(lanyard.MobileIDLocked), string(lanyard.MobileIDDeleted), string(lanyard.MobileIDRegistered)}, scan)
	if err != nil {
		return nil, err
	}
	orphans, err := queryAll(ctx, db, `SELECT c.serial, c.user_id, 0 FROM certificates c
		WHERE c.status = ? AND c.issued_at <= ?
		AND NOT EXISTS (SELECT 1 FROM mobile_id_certificates mc WHERE mc.serial = c.serial)
		ORDER BY c.id LIMIT `+strconv.Itoa(repairBatch),
		[]any{string(lanyard.CertificateValid), encodeTime(db.Now().Add(-grace))}, scan)
	if err != nil {
		return nil, err
	}
	return append(held, orphans...), nil
}

// repair brings the certificates found to match, each against the state
// its mobile ID has now, each in a transaction of its own.
func (db *DB) repair(ctx context.Context, found []mismatch) (int, error) {
	n := 0
	for _, f := range found {
		changed := false
		err := db.inTx(ctx, func(tx *Tx) error {
			changed = false
			if err := tx.lockUser(ctx, f.userID); err != nil {
				return err
			}
			state, why, err := tx.ownerState(ctx, f)
			if err != nil || state == lanyard.MobileIDActive {
				return err // matched meanwhile; a repair never releases
			}
			action, change := statusFor(state, why)
			_, changed, err = tx.changeStatus(ctx, lanyard.SystemActor, f.serial, action, change)
			return err
		})
		if err != nil {
			return n, err
		}
		if changed {
			n++
		}
	}
	return n, nil
}

// ownerState returns the state the certificate of f must follow, read in
// tx: its mobile ID's (locked against change), or deleted for one that no
// mobile ID holds; active, which asks for nothing here, when the
// certificate has found a holder meanwhile.
func (tx *Tx) ownerState(ctx context.Context, f mismatch) (lanyard.MobileIDState, string, error) {
	if f.mobileID == 0 {
		var held int
		err := tx.queryRow(ctx, `SELECT COUNT(*) FROM mobile_id_certificates WHERE serial = ?`, f.serial).Scan(&held)
		if err != nil || held > 0 {
			return lanyard.MobileIDActive, "", err
		}
		return lanyard.MobileIDDeleted, "repair: no mobile ID holds the certificate", nil
	}
	var publicID string
	var state lanyard.MobileIDState
	err := tx.queryRow(ctx, `SELECT public_id, state FROM mobile_ids WHERE id = ?`+tx.forUpdate(""), f.mobileID).Scan(&publicID, &state)
	if err != nil {
		return "", "", fmt.Errorf("read mobile ID: %w", err)
	}
	if state == lanyard.MobileIDActive {
		return state, "", nil
	}
	return state, "repair: the mobile ID " + publicID + " is " + string(state), nil
}
