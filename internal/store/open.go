package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
)

// OpenEnrollment starts the process e for its user in one transaction:
// the user's active mobile ID is locked (only with lockExisting), the
// user's open processes end, mobile IDs still waiting for the app are
// deleted, and e is created; with code, its mobile ID is registered and
// the activation code issued with its mails. With e.OptionsVersion, that
// version of the process's script must be the newest.
func (db *DB) OpenEnrollment(ctx context.Context, actor lanyard.Actor, e *lanyard.Enrollment, lockExisting bool, code *lanyard.ActivationCode) error {
	return db.inTx(ctx, func(tx *Tx) error {
		if err := tx.lockUser(ctx, e.UserID); err != nil {
			return err
		}
		if err := tx.replaceMobileIDs(ctx, actor, e.UserID, lockExisting); err != nil {
			return err
		}
		if err := tx.endOpenEnrollments(ctx, actor, e.UserID); err != nil {
			return err
		}
		if code == nil {
			return tx.insertEnrollment(ctx, actor, e, nil)
		}
		// The mobile ID first, so that the process is created with its
		// code in one statement, which names the mobile ID by its public
		// ID and returns both rows' IDs: the mobile ID's insert waits for
		// no answer of its own.
		if err := tx.insertMobileIDLater(ctx, code.MobileID); err != nil {
			return err
		}
		if e.Step != lanyard.StepFinished {
			e.Step = lanyard.StepActivation
		}
		if err := tx.insertEnrollment(ctx, actor, e, code); err != nil {
			return err
		}
		code.MobileID.ID = e.MobileID
		if err := tx.codeIssued(ctx, actor, e, code, true); err != nil || e.Step != lanyard.StepFinished {
			return err
		}
		return tx.insertAudit(ctx, actor, "mobileid.supply", e.Process,
			fmt.Sprintf("process %s: supplied to user #%d; the activation code went by email", e.PublicID, e.UserID))
	})
}

// replaceMobileIDs makes room for a new mobile ID of the user: an active
// or inactive one is locked when lockExisting confirms it (else ECONFLICT),
// and those waiting for the app are deleted.
func (tx *Tx) replaceMobileIDs(ctx context.Context, actor lanyard.Actor, userID int64, lockExisting bool) error {
	live, err := queryAll(ctx, tx, `SELECT `+mobileIDColumns+` FROM mobile_ids WHERE user_id = ? AND state IN (?, ?, ?) ORDER BY id`+tx.forUpdate(""),
		[]any{userID, string(lanyard.MobileIDRegistered), string(lanyard.MobileIDActive), string(lanyard.MobileIDInactive)}, scanMobileID)
	if err != nil {
		return fmt.Errorf("find mobile IDs: %w", err)
	}
	for _, m := range live {
		next, why := lanyard.MobileIDDeleted, "a new process replaces it"
		if m.State != lanyard.MobileIDRegistered {
			if !lockExisting {
				return lanyard.Errorf(lanyard.ECONFLICT, "The user already has an active mobile ID. Lock it to get a new one.")
			}
			next, why = lanyard.MobileIDLocked, "locked for a new mobile ID"
		}
		// Read for update above: only its certificates are still to read.
		if err := loadCertificates(ctx, tx, m); err != nil {
			return err
		}
		if err := tx.changeMobileIDState(ctx, actor, m, next, why); err != nil {
			return err
		}
	}
	return nil
}

// endOpenEnrollments cancels the user's processes that have not ended, so
// that a process started again (Back, a second tab, an operator's supply)
// never leaves two waiting. One statement ends them and returns what the
// audit events name, by the index on user and step; it goes with the
// next statement (queryLater), and the events take their place in the
// transaction's when its rows come.
func (tx *Tx) endOpenEnrollments(ctx context.Context, actor lanyard.Actor, userID int64) error {
	type ended struct {
		id                int64
		publicID, process string
	}
	// The events' place, kept by a mark until the rows come.
	mark := &lanyard.AuditEvent{}
	tx.audit = append(tx.audit, mark)
	err := tx.queryLater(ctx, func(rs rows) error {
		var open []ended
		for rs.Next() {
			var e ended
			if err := rs.Scan(&e.id, &e.publicID, &e.process); err != nil {
				return err
			}
			open = append(open, e)
		}
		if err := rs.Err(); err != nil {
			return fmt.Errorf("end open enrollments: %w", err)
		}
		slices.SortFunc(open, func(a, b ended) int { return cmp.Compare(a.id, b.id) })
		events := make([]*lanyard.AuditEvent, len(open))
		for i, e := range open {
			events[i] = tx.auditEvent(actor, "mobileid.process_cancel", e.process, fmt.Sprintf("process %s: replaced by a new process", e.publicID))
		}
		at := slices.Index(tx.audit, mark)
		tx.audit = slices.Replace(tx.audit, at, at+1, events...)
		return nil
	}, `UPDATE enrollments SET step = ?, code_hash = NULL, updated_at = ?
		WHERE user_id = ? AND step IN (?, ?, ?) RETURNING id, public_id, process`,
		string(lanyard.StepCancelled), encodeTime(tx.now), userID,
		string(lanyard.StepIntro), string(lanyard.StepRecovery), string(lanyard.StepActivation))
	if err != nil {
		return fmt.Errorf("end open enrollments: %w", err)
	}
	return nil
}

// insertEnrollment creates the process e, with its code when code is not
// nil (e.MobileID is then the code's mobile ID, registered already).
func (tx *Tx) insertEnrollment(ctx context.Context, actor lanyard.Actor, e *lanyard.Enrollment, code *lanyard.ActivationCode) error {
	e.CreatedAt, e.UpdatedAt = tx.now, tx.now
	var codeHash, mobilePublicID any // NULL without a code
	var expires int64
	if code != nil {
		codeHash, mobilePublicID, expires = code.Hash, code.MobileID.PublicID, encodeTime(code.ExpiresAt)
		e.CodeExpiresAt = code.ExpiresAt
	}
	q := `INSERT INTO enrollments (public_id, user_id, process, step, options, usages, recover_serials, by_email,
		code_hash, code_expires_at, mobile_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT id FROM mobile_ids WHERE public_id = ?), ?, ?) RETURNING id, mobile_id`
	args := []any{e.PublicID, e.UserID, e.Process, string(e.Step), string(e.Options), joinUsages(e.Usages), strings.Join(e.RecoverSerials, ","),
		boolInt(e.ByEmail), codeHash, expires, mobilePublicID, encodeTime(tx.now), encodeTime(tx.now)}
	var mobileID sql.NullInt64
	dest := []any{&e.ID, &mobileID}
	// Options of an older script are found out here, and the transaction
	// fails with the row it wrote.
	var newest int
	if e.OptionsVersion != 0 {
		q += `, ` + newestScriptVersion
		args = append(args, e.Process)
		dest = append(dest, &newest)
	}
	if err := tx.queryRow(ctx, q, args...).Scan(dest...); err != nil {
		return fmt.Errorf("insert enrollment: %w", err)
	}
	if code != nil && !mobileID.Valid {
		return fmt.Errorf("insert enrollment: its mobile ID %s is not there", code.MobileID.PublicID)
	}
	e.MobileID = mobileID.Int64
	if e.OptionsVersion != 0 && newest != e.OptionsVersion {
		// The database is ahead of what this process keeps, before the
		// change has reached it: forget what it keeps, so that the start
		// tried again reads the newest script.
		tx.db.kept.changed()
		return lanyard.ErrOptionsChanged
	}
	return tx.insertAudit(ctx, actor, "mobileid.process_start", e.Process, fmt.Sprintf("process %s for user #%d", e.PublicID, e.UserID))
}

// issueCode stores the hash of a new code for e, voiding any earlier one,
// registers its mobile ID when e has none, and queues the code's mails.
func (tx *Tx) issueCode(ctx context.Context, actor lanyard.Actor, e *lanyard.Enrollment, code *lanyard.ActivationCode) error {
	registered := e.MobileID == 0
	if registered {
		if err := tx.insertMobileID(ctx, code.MobileID); err != nil {
			return err
		}
		e.MobileID = code.MobileID.ID
	}
	if e.Step != lanyard.StepFinished {
		e.Step = lanyard.StepActivation
	}
	e.CodeExpiresAt, e.UpdatedAt = code.ExpiresAt, tx.now
	_, err := tx.exec(ctx, `UPDATE enrollments SET step = ?, code_hash = ?, code_expires_at = ?, mobile_id = ?, by_email = ?, updated_at = ? WHERE id = ?`,
		string(e.Step), code.Hash, encodeTime(code.ExpiresAt), e.MobileID, boolInt(e.ByEmail), encodeTime(tx.now), e.ID)
	if err != nil {
		return fmt.Errorf("store activation code: %w", err)
	}
	return tx.codeIssued(ctx, actor, e, code, registered)
}

// codeIssued records the rest of issuing code for e: the registration of
// its mobile ID when it is new, the code's mails and the audit events.
func (tx *Tx) codeIssued(ctx context.Context, actor lanyard.Actor, e *lanyard.Enrollment, code *lanyard.ActivationCode, registered bool) error {
	if registered {
		m := code.MobileID
		if err := tx.insertAudit(ctx, actor, "mobileid.register", m.PublicID, fmt.Sprintf("registered for user #%d, waiting for the app", m.UserID)); err != nil {
			return err
		}
	}
	if err := tx.queueMails(ctx, actor, code.Mails...); err != nil {
		return err
	}
	return tx.insertAudit(ctx, actor, "mobileid.code_issue", e.Process,
		fmt.Sprintf("process %s: activation code issued, expires %s, by email %t", e.PublicID, code.ExpiresAt.Format(time.RFC3339), e.ByEmail))
}
