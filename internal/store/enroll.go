package store

import (
	"context"
	"fmt"

	"github.com/lanyard-id/lanyard"
)

// EnrollMobileID records the app's enrollment in one transaction: the code
// is consumed, the user checked, the signed certificates recorded, the
// mobile ID made active with them, and the mails queued. Whatever fails
// leaves the database as it was, the code still valid.
func (db *DB) EnrollMobileID(ctx context.Context, actor lanyard.Actor, codeHash []byte, m *lanyard.MobileID, certs []lanyard.SignedCertificate, mails ...lanyard.Mail) (*lanyard.Enrollment, error) {
	var e *lanyard.Enrollment
	err := db.inTx(ctx, func(tx *Tx) error {
		var err error
		if e, err = tx.claimCodeOf(ctx, codeHash, m); err != nil {
			return err
		}
		m.Certificates = m.Certificates[:0]
		if err := tx.insertCertificates(ctx, actor, certs); err != nil {
			return err
		}
		for _, sc := range certs {
			m.Certificates = append(m.Certificates, lanyard.MobileIDCertificate{Serial: sc.Certificate.Serial, Usage: sc.Certificate.Usage})
		}
		if err := tx.activateMobileID(ctx, actor, m, e); err != nil {
			return err
		}
		return tx.queueMails(ctx, actor, mails...)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// claimCode consumes a valid activation code in tx. The conditional update
// makes two apps racing with one code end with exactly one winner.
func (tx *Tx) claimCode(ctx context.Context, codeHash []byte) (*lanyard.Enrollment, error) {
	e, err := findValidCode(ctx, tx, codeHash, tx.now)
	if err != nil {
		return nil, err
	}
	if err := tx.lockUser(ctx, e.UserID); err != nil {
		return nil, err
	}
	res, err := tx.exec(ctx, `UPDATE enrollments SET code_hash = NULL, used_code_hash = code_hash, updated_at = ? WHERE id = ? AND code_hash = ?`,
		encodeTime(tx.now), e.ID, codeHash)
	if err != nil {
		return nil, fmt.Errorf("claim activation code: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, lanyard.Errorf(lanyard.ECONFLICT, "Another app enrolled with this activation code first.")
	}
	return e, tx.insertAudit(ctx, lanyard.Actor{Username: "app", Addr: "app"}, "mobileid.code_use", e.Process, fmt.Sprintf("process %s: activation code used", e.PublicID))
}

// claimCodeLockingUser is claimCodeOf's statement on PostgreSQL.
var claimCodeLockingUser = `WITH u AS (SELECT username, state FROM users WHERE id = ? FOR UPDATE)
	UPDATE enrollments SET code_hash = NULL, used_code_hash = code_hash, updated_at = ? FROM u
	WHERE code_hash = ? AND code_expires_at > ? AND user_id = ?
	RETURNING ` + prefixed("enrollments.", enrollmentColumns) + `, u.username, u.state`

// claimCodeOf consumes a valid activation code of the mobile ID m in tx,
// as claimCode does but without an event of its own, and checks that m's
// user is active: one statement claims the code and reads the user's
// state, and on PostgreSQL locks the user's row first.
func (tx *Tx) claimCodeOf(ctx context.Context, codeHash []byte, m *lanyard.MobileID) (*lanyard.Enrollment, error) {
	q := `UPDATE enrollments SET code_hash = NULL, used_code_hash = code_hash, updated_at = ?
		WHERE code_hash = ? AND code_expires_at > ? AND user_id = ?
		RETURNING ` + enrollmentColumns + `, (SELECT username FROM users WHERE id = enrollments.user_id), (SELECT state FROM users WHERE id = enrollments.user_id)`
	args := []any{encodeTime(tx.now), codeHash, encodeTime(tx.now), m.UserID}
	if tx.db.dialect == Postgres && tx.lockedUser != m.UserID {
		// The user's row is locked in the same statement, before the
		// process's row is: the code's row is found first (read, not
		// locked), then the user locked in the join, then the row
		// updated. PostgreSQL runs the locking CTE only when the join
		// needs it, so a code that matches no row locks no one, which is
		// right here (nothing is written) but would not be for a lock
		// that must hold whatever the statement finds.
		q = claimCodeLockingUser
		args = append([]any{m.UserID}, args...)
	}
	var username, state string
	e, err := scanEnrollment(extraScanner{s: tx.queryRow(ctx, q, args...), extra: []any{&username, &state}})
	if err == nil && tx.db.dialect == Postgres {
		tx.lockedUser = m.UserID
	}
	if errNoRows(err) {
		// Used, expired, cancelled or never issued: say which, as the
		// code's first reader would have.
		if _, err := findValidCode(ctx, tx, codeHash, tx.now); err != nil {
			return nil, err
		}
		return nil, lanyard.Errorf(lanyard.ECONFLICT, "The activation code belongs to another mobile ID.")
	} else if err != nil {
		return nil, fmt.Errorf("claim activation code: %w", err)
	}
	if e.MobileID != m.ID {
		return nil, lanyard.Errorf(lanyard.ECONFLICT, "The activation code belongs to another mobile ID.")
	}
	if err := requireUserActive(username, state); err != nil {
		return nil, err
	}
	// The code's use is recorded with the activation it is for, in one
	// event (activateMobileID).
	return e, nil
}

// requireUserActive refuses the user username in state unless active.
func requireUserActive(username, state string) error {
	if lanyard.UserState(state) != lanyard.UserActive {
		return lanyard.Errorf(lanyard.EUSERSTATE, "The user %s is %s; only active users can get a mobile ID.", username, state)
	}
	return nil
}

// activateMobileID makes the registered mobile ID m active on its device
// with its certificates, with the activation code of e that claimCodeOf
// consumed: one event says both.
func (tx *Tx) activateMobileID(ctx context.Context, actor lanyard.Actor, m *lanyard.MobileID, e *lanyard.Enrollment) error {
	err := tx.execLaterFinding(ctx, func(err error) error {
		if isUniqueViolation(err) {
			return lanyard.Errorf(lanyard.ECONFLICT, "The user has another active mobile ID; lock it first.")
		}
		return fmt.Errorf("activate mobile ID: %w", err)
	}, lanyard.Errorf(lanyard.ECONFLICT, "The mobile ID is no longer waiting for the app."),
		`UPDATE mobile_ids SET state = ?, device_name = ?, transport_key = ?, recovery_pending = ?, activated_at = ?, updated_at = ?
		WHERE id = ? AND state = ? RETURNING 1`,
		string(lanyard.MobileIDActive), m.DeviceName, m.TransportKey, boolInt(m.RecoveryPending), encodeTime(tx.now), encodeTime(tx.now),
		m.ID, string(lanyard.MobileIDRegistered))
	if err != nil {
		return err
	}
	if err := tx.insertMobileIDCertificates(ctx, m.ID, m.Certificates); err != nil {
		return err
	}
	m.State, m.ActivatedAt, m.UpdatedAt = lanyard.MobileIDActive, tx.now, tx.now
	return tx.insertAudit(ctx, actor, "mobileid.activate", m.PublicID,
		fmt.Sprintf("process %s: activation code used; active on device %q with %d certificates", e.PublicID, m.DeviceName, len(m.Certificates)))
}

// FindEnrollmentByUsedCode returns the process whose activation code was
// used with the hash codeHash while the code would still be valid; any
// other is ENOTFOUND.
func (db *DB) FindEnrollmentByUsedCode(ctx context.Context, codeHash []byte) (*lanyard.Enrollment, error) {
	e, err := findEnrollment(ctx, db, `used_code_hash = ? AND code_expires_at > ?`, codeHash, encodeTime(db.Now()))
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		return nil, errCodeNotValid
	}
	return e, err
}
