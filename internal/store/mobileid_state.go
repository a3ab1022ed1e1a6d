package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lanyard-id/lanyard"
)

// SetMobileIDState changes the state of m and, in the same transaction,
// the status of every certificate issued to it to match: locked and
// deleted revoke them, inactive holds them, active again releases them. A
// CRL is owed from the commit. Locked is final except for deletion;
// deleted is final.
func (db *DB) SetMobileIDState(ctx context.Context, actor lanyard.Actor, m *lanyard.MobileID, state lanyard.MobileIDState, detail string) error {
	return db.inTx(ctx, func(tx *Tx) error {
		if err := tx.lockUser(ctx, m.UserID); err != nil {
			return err
		}
		cur, err := tx.setMobileIDState(ctx, actor, m.ID, state, detail)
		if err != nil {
			return err
		}
		m.State, m.UpdatedAt = cur.State, cur.UpdatedAt
		return nil
	})
}

// setMobileIDState is SetMobileIDState in tx. It returns the mobile ID as
// it is afterwards; one in the state already changes nothing.
func (tx *Tx) setMobileIDState(ctx context.Context, actor lanyard.Actor, id int64, state lanyard.MobileIDState, detail string) (*lanyard.MobileID, error) {
	m, err := findMobileID(ctx, tx, `id = ?`+tx.forUpdate(""), id)
	if err != nil {
		return nil, err
	}
	return m, tx.changeMobileIDState(ctx, actor, m, state, detail)
}

// changeMobileIDState is setMobileIDState for m, read in tx (locked on
// PostgreSQL) with its certificates; m is changed to match.
func (tx *Tx) changeMobileIDState(ctx context.Context, actor lanyard.Actor, m *lanyard.MobileID, state lanyard.MobileIDState, detail string) error {
	id := m.ID
	if m.State == state {
		return nil
	}
	if m.State == lanyard.MobileIDDeleted || (m.State == lanyard.MobileIDLocked && state != lanyard.MobileIDDeleted) {
		return lanyard.Errorf(lanyard.ECONFLICT, "The mobile ID is %s; its state cannot change.", m.State)
	}
	if m.State == lanyard.MobileIDRegistered {
		// A mobile ID that no longer waits for the app takes its
		// activation code with it.
		if _, err := tx.exec(ctx, `UPDATE enrollments SET code_hash = NULL WHERE mobile_id = ? AND code_hash IS NOT NULL`, id); err != nil {
			return fmt.Errorf("void activation code: %w", err)
		}
	}
	_, err := tx.exec(ctx, `UPDATE mobile_ids SET state = ?, updated_at = ? WHERE id = ?`, string(state), encodeTime(tx.now), id)
	if isUniqueViolation(err) {
		return lanyard.Errorf(lanyard.ECONFLICT, "The user has another active mobile ID.")
	} else if err != nil {
		return fmt.Errorf("set mobile ID state: %w", err)
	}
	old := m.State
	m.State, m.UpdatedAt = state, tx.now
	if err := tx.insertAudit(ctx, actor, "mobileid.set_state", m.PublicID, fmt.Sprintf("%s -> %s: %s", old, state, detail)); err != nil {
		return err
	}
	if err := tx.certificatesFollow(ctx, actor, m, detail); err != nil {
		return err
	}
	return nil
}

// lockIfActive locks the mobile ID with its certificates if it is active.
func (tx *Tx) lockIfActive(ctx context.Context, actor lanyard.Actor, id int64, why string) error {
	var state lanyard.MobileIDState
	if err := tx.queryRow(ctx, `SELECT state FROM mobile_ids WHERE id = ?`, id).Scan(&state); err != nil {
		return fmt.Errorf("read mobile ID state: %w", err)
	}
	if state != lanyard.MobileIDActive {
		return nil
	}
	_, err := tx.setMobileIDState(ctx, actor, id, lanyard.MobileIDLocked, why)
	return err
}

// certificatesFollow brings the status of every certificate issued to m
// (not those recovered onto it, which belong to earlier mobile IDs) to
// what m's state asks: good while active, on hold while inactive, revoked
// once locked or deleted. A revoked certificate stays revoked.
func (tx *Tx) certificatesFollow(ctx context.Context, actor lanyard.Actor, m *lanyard.MobileID, why string) error {
	action, change := statusFor(m.State, why)
	if change == nil {
		return nil
	}
	for _, c := range m.Certificates {
		if c.Recovered {
			continue
		}
		if _, _, err := tx.changeStatus(ctx, actor, c.Serial, action, change); err != nil {
			return fmt.Errorf("certificate %s: %w", c.Serial, err)
		}
	}
	return nil
}

// statusFor returns the audit action and the status change that make a
// certificate match a mobile ID in state; nil for a state without one.
func statusFor(state lanyard.MobileIDState, why string) (string, statusChange) {
	switch state {
	case lanyard.MobileIDLocked, lanyard.MobileIDDeleted, lanyard.MobileIDRegistered:
		reason := lanyard.ReasonCessationOfOperation
		return "certificate.revoke", func(c *lanyard.Certificate, now time.Time) (bool, string, error) {
			changed, err := c.Revoke(reason, now)
			return changed, "reason=" + reason.String() + ": " + why, err
		}
	case lanyard.MobileIDInactive:
		return "certificate.hold", func(c *lanyard.Certificate, now time.Time) (bool, string, error) {
			if c.Status == lanyard.CertificateRevoked {
				return false, "", nil
			}
			changed, err := c.Hold(now)
			return changed, "reason=certificateHold: " + why, err
		}
	case lanyard.MobileIDActive:
		return "certificate.release", func(c *lanyard.Certificate, now time.Time) (bool, string, error) {
			if c.Status == lanyard.CertificateRevoked {
				return false, "", nil
			}
			changed, err := c.Release()
			return changed, why, err
		}
	}
	return "", nil
}
