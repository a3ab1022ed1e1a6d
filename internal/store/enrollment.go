package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
)

const enrollmentColumns = `id, public_id, user_id, process, step, options, usages, recover_serials, by_email, code_expires_at, mobile_id, created_at, updated_at`

func scanEnrollment(s scanner) (*lanyard.Enrollment, error) {
	var e lanyard.Enrollment
	dest, decode := enrollmentFields(&e)
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	decode()
	return &e, nil
}

// enrollmentFields returns what a row of enrollmentColumns scans into for
// e, and what then decodes it.
func enrollmentFields(e *lanyard.Enrollment) ([]any, func()) {
	var usages, serials string
	var byEmail int
	var expires, created, updated int64
	var mobileID sql.NullInt64
	return []any{&e.ID, &e.PublicID, &e.UserID, &e.Process, &e.Step, &e.Options, &usages, &serials, &byEmail, &expires, &mobileID, &created, &updated}, func() {
		for _, u := range splitList(usages) {
			e.Usages = append(e.Usages, lanyard.CertificateUsage(u))
		}
		e.RecoverSerials = splitList(serials)
		e.ByEmail = byEmail != 0
		e.CodeExpiresAt, e.CreatedAt, e.UpdatedAt = decodeTime(expires), decodeTime(created), decodeTime(updated)
		e.MobileID = mobileID.Int64
	}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func joinUsages(us []lanyard.CertificateUsage) string {
	s := make([]string, len(us))
	for i, u := range us {
		s[i] = string(u)
	}
	return strings.Join(s, ",")
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// CreateEnrollment starts a process for a user.
func (db *DB) CreateEnrollment(ctx context.Context, actor lanyard.Actor, e *lanyard.Enrollment) error {
	return db.inTx(ctx, func(tx *Tx) error { return tx.insertEnrollment(ctx, actor, e, nil) })
}

// FindEnrollment returns a user's process; another user's is ENOTFOUND.
func (db *DB) FindEnrollment(ctx context.Context, userID int64, publicID string) (*lanyard.Enrollment, error) {
	if !lanyard.ValidText(publicID) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "There is no such process.")
	}
	return findEnrollment(ctx, db, `public_id = ? AND user_id = ?`, publicID, userID)
}

// findEnrollment reads one enrollment; none is ENOTFOUND.
func findEnrollment(ctx context.Context, c conn, where string, args ...any) (*lanyard.Enrollment, error) {
	e, err := scanEnrollment(c.queryRow(ctx, `SELECT `+enrollmentColumns+` FROM enrollments WHERE `+where, args...))
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "There is no such process.")
	} else if err != nil {
		return nil, fmt.Errorf("find enrollment: %w", err)
	}
	return e, nil
}

// findValidCode reads the enrollment of an activation code that is valid
// at now.
var (
	errCodeNotValid = lanyard.Errorf(lanyard.ENOTFOUND, "The activation code is not valid. It may have been used or cancelled; start again in Self-Service.")
	errCodeExpired  = lanyard.Errorf(lanyard.EEXPIRED, "The activation code has expired. Start again in Self-Service.")
)

func findValidCode(ctx context.Context, c conn, codeHash []byte, now time.Time) (*lanyard.Enrollment, error) {
	e, err := findEnrollment(ctx, c, `code_hash = ?`, codeHash)
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		return nil, errCodeNotValid
	} else if err != nil {
		return nil, err
	}
	if !now.Before(e.CodeExpiresAt) {
		return nil, errCodeExpired
	}
	return e, nil
}

// deleteWaitingMobileID deletes a mobile ID that still waits for the app;
// one the app enrolled (or that ended otherwise) is left as it is.
func (tx *Tx) deleteWaitingMobileID(ctx context.Context, id int64) error {
	_, err := tx.exec(ctx, `UPDATE mobile_ids SET state = ?, updated_at = ? WHERE id = ? AND state = ?`,
		string(lanyard.MobileIDDeleted), encodeTime(tx.now), id, string(lanyard.MobileIDRegistered))
	if err != nil {
		return fmt.Errorf("delete waiting mobile ID: %w", err)
	}
	return nil
}

// UpdateEnrollment saves the step and choices of a process. When the
// process ends (cancelled, failed), its code is voided and a registered
// mobile ID waiting for it is deleted, in the same transaction; a
// cancelled process's mobile ID that the app enrolled meanwhile is locked
// with its certificates revoked.
func (db *DB) UpdateEnrollment(ctx context.Context, actor lanyard.Actor, e *lanyard.Enrollment, action, detail string, mails ...lanyard.Mail) error {
	return db.inTx(ctx, func(tx *Tx) error {
		if err := tx.lockUser(ctx, e.UserID); err != nil {
			return err
		}
		e.UpdatedAt = tx.now
		ended := e.Step == lanyard.StepCancelled || e.Step == lanyard.StepFailed
		if ended {
			if err := tx.deleteWaitingMobileID(ctx, e.MobileID); err != nil {
				return err
			}
		}
		if e.Step == lanyard.StepCancelled && e.MobileID != 0 {
			// The app may have enrolled before the user cancelled: what it
			// got is locked in the same transaction.
			if err := tx.lockIfActive(ctx, actor, e.MobileID, "the process was cancelled"); err != nil {
				return err
			}
		}
		// An ended process voids its code: code_hash keeps its value
		// otherwise.
		if _, err := tx.exec(ctx, `UPDATE enrollments SET step = ?, usages = ?, recover_serials = ?, updated_at = ?,
			code_hash = CASE WHEN ? = 1 THEN NULL ELSE code_hash END WHERE id = ?`,
			string(e.Step), joinUsages(e.Usages), strings.Join(e.RecoverSerials, ","), encodeTime(tx.now), boolInt(ended), e.ID); err != nil {
			return fmt.Errorf("update enrollment: %w", err)
		}
		if err := tx.queueMails(ctx, actor, mails...); err != nil {
			return err
		}
		return tx.insertAudit(ctx, actor, action, e.Process, fmt.Sprintf("process %s: %s", e.PublicID, detail))
	})
}

// FinishEnrollment is the last Next of the user's process publicID: the
// step moves from activation to finished, conditionally, so that a
// process cancelled or failed meanwhile stays so, and the statement
// returns the state of the process's mobile ID. A process finished
// already gives the state as well.
func (db *DB) FinishEnrollment(ctx context.Context, actor lanyard.Actor, userID int64, publicID string) (lanyard.MobileIDState, error) {
	if !lanyard.ValidText(publicID) {
		return "", lanyard.Errorf(lanyard.ENOTFOUND, "There is no such process.")
	}
	var state string
	// The process's row alone is locked, by the update: Next changes
	// nothing else of the user's, and whatever else changes the process
	// (a cancel, the user's lock) finds it finished or makes it no longer
	// at its activation step.
	err := db.inTx(ctx, func(tx *Tx) error {
		var process string
		err := tx.queryRow(ctx, `UPDATE enrollments SET step = ?, updated_at = ?
			WHERE public_id = ? AND user_id = ? AND step = ? AND mobile_id IS NOT NULL
			RETURNING process, (SELECT state FROM mobile_ids WHERE id = enrollments.mobile_id)`,
			string(lanyard.StepFinished), encodeTime(tx.now), publicID, userID, string(lanyard.StepActivation)).Scan(&process, &state)
		if errNoRows(err) {
			state, err = tx.finishedAlready(ctx, userID, publicID)
			return err
		} else if err != nil {
			return fmt.Errorf("finish enrollment: %w", err)
		}
		return tx.insertAudit(ctx, actor, "mobileid.process_finish", process, fmt.Sprintf("process %s: finished", publicID))
	})
	return lanyard.MobileIDState(state), err
}

// finishedAlready explains why the user's process publicID did not move
// to finished at Next: finished already (a second Next) gives its mobile
// ID's state; anything else is an error that says why.
func (tx *Tx) finishedAlready(ctx context.Context, userID int64, publicID string) (string, error) {
	e, err := findEnrollment(ctx, tx, `public_id = ? AND user_id = ?`, publicID, userID)
	if err != nil {
		return "", err
	}
	switch {
	case e.Step == lanyard.StepActivation && e.MobileID == 0:
		return "", lanyard.Errorf(lanyard.ECONFLICT, "The activation code has not been issued yet.")
	case e.Step != lanyard.StepFinished:
		return "", lanyard.Errorf(lanyard.ECONFLICT, "The process has ended (%s).", e.Step)
	}
	var state string
	if err := tx.queryRow(ctx, `SELECT state FROM mobile_ids WHERE id = ?`, e.MobileID).Scan(&state); err != nil {
		return "", fmt.Errorf("read mobile ID state: %w", err)
	}
	return state, nil
}

// SetActivationCode stores a new code hash, voiding the earlier one, and
// creates the code's registered mobile ID when the process has none.
func (db *DB) SetActivationCode(ctx context.Context, actor lanyard.Actor, e *lanyard.Enrollment, code *lanyard.ActivationCode) error {
	return db.inTx(ctx, func(tx *Tx) error {
		if err := tx.lockUser(ctx, e.UserID); err != nil {
			return err
		}
		return tx.issueCode(ctx, actor, e, code)
	})
}

// PeekActivationCode finds the enrollment of a valid code.
func (db *DB) PeekActivationCode(ctx context.Context, codeHash []byte) (*lanyard.Enrollment, error) {
	return findValidCode(ctx, db, codeHash, db.Now())
}

// peekCodeQuery reads a code's process, user, mobile ID and whether the
// user has archived keys.
var peekCodeQuery = `SELECT ` + prefixed("e.", enrollmentColumns) + `, ` + prefixed("u.", userColumns) + `, ` + prefixed("m.", mobileIDColumns) + `,
	EXISTS (SELECT 1 FROM key_archive k WHERE k.user_id = e.user_id)
	FROM enrollments e JOIN users u ON u.id = e.user_id JOIN mobile_ids m ON m.id = e.mobile_id
	WHERE e.code_hash = ?`

// PeekCode finds what a valid code leads to in one query: its process,
// the process's user and mobile ID, and whether the user has archived
// keys.
func (db *DB) PeekCode(ctx context.Context, codeHash []byte) (*lanyard.PeekedCode, error) {
	p := &lanyard.PeekedCode{Enrollment: &lanyard.Enrollment{}, User: &lanyard.User{}, MobileID: &lanyard.MobileID{}}
	eDest, eDecode := enrollmentFields(p.Enrollment)
	uDest, uDecode := userFields(p.User)
	mDest, mDecode := mobileIDFields(p.MobileID)
	dest := append(append(append(eDest, uDest...), mDest...), &p.HasArchive)
	err := db.queryRow(ctx, peekCodeQuery, codeHash).Scan(dest...)
	if errNoRows(err) {
		return nil, errCodeNotValid
	} else if err != nil {
		return nil, fmt.Errorf("find activation code: %w", err)
	}
	eDecode()
	mDecode()
	if err := uDecode(); err != nil {
		return nil, err
	}
	if !db.Now().Before(p.Enrollment.CodeExpiresAt) {
		return nil, errCodeExpired
	}
	return p, nil
}

// ClaimActivationCode consumes a code, one winner among racing callers.
func (db *DB) ClaimActivationCode(ctx context.Context, codeHash []byte) (*lanyard.Enrollment, error) {
	var e *lanyard.Enrollment
	err := db.inTx(ctx, func(tx *Tx) error {
		var err error
		e, err = tx.claimCode(ctx, codeHash)
		return err
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// ExpireEnrollments ends processes whose code expired unused. The job
// runs every few seconds on every instance, so it looks outside any
// transaction (on an index) and opens one only for each code that expired.
func (db *DB) ExpireEnrollments(ctx context.Context) (int, error) {
	expired, err := queryAll(ctx, db, `SELECT `+enrollmentColumns+` FROM enrollments WHERE code_hash IS NOT NULL AND code_expires_at <= ?`,
		[]any{encodeTime(db.Now())}, scanEnrollment)
	if err != nil || len(expired) == 0 {
		return 0, err
	}
	n := 0
	for _, e := range expired {
		ended := false
		err := db.inTx(ctx, func(tx *Tx) error {
			ended = false
			if err := tx.lockUser(ctx, e.UserID); err != nil {
				return err
			}
			// The condition makes the update a claim: when instances of a
			// cluster run the job together, each process ends once, and
			// a code issued again meanwhile is not ended.
			res, err := tx.exec(ctx, `UPDATE enrollments SET code_hash = NULL, step = CASE WHEN step = ? THEN ? ELSE step END, updated_at = ?
				WHERE id = ? AND code_hash IS NOT NULL AND code_expires_at <= ?`,
				string(lanyard.StepActivation), string(lanyard.StepFailed), encodeTime(tx.now), e.ID, encodeTime(tx.now))
			if err != nil {
				return err
			}
			if rows, _ := res.RowsAffected(); rows != 1 {
				return nil
			}
			ended = true
			if err := tx.deleteWaitingMobileID(ctx, e.MobileID); err != nil {
				return err
			}
			return tx.insertAudit(ctx, lanyard.SystemActor, "mobileid.code_expire", e.Process, fmt.Sprintf("process %s: activation code expired unused", e.PublicID))
		})
		if err != nil {
			return n, fmt.Errorf("expire enrollments: %w", err)
		}
		if ended {
			n++
		}
	}
	return n, nil
}

// FindEnrollmentByMobileID returns the process that created a mobile ID.
func (db *DB) FindEnrollmentByMobileID(ctx context.Context, mobileID int64) (*lanyard.Enrollment, error) {
	return findEnrollment(ctx, db, `mobile_id = ?`, mobileID)
}

// FindOpenEnrollments lists a user's processes that have not ended.
func (db *DB) FindOpenEnrollments(ctx context.Context, userID int64) ([]*lanyard.Enrollment, error) {
	es, err := queryAll(ctx, db, `SELECT `+enrollmentColumns+` FROM enrollments WHERE user_id = ? AND step IN (?, ?, ?) ORDER BY id`,
		[]any{userID, string(lanyard.StepIntro), string(lanyard.StepRecovery), string(lanyard.StepActivation)}, scanEnrollment)
	if err != nil {
		return nil, fmt.Errorf("find open enrollments: %w", err)
	}
	return es, nil
}
