package store

import (
	"context"
	"fmt"

	"github.com/lanyard-id/lanyard"
)

var _ lanyard.AuditService = (*DB)(nil)

// insertAudit writes an audit event in tx, so it commits with the change it
// describes. Detail must never hold a secret.
func (tx *Tx) insertAudit(ctx context.Context, actor lanyard.Actor, action, subject, detail string) error {
	_, err := tx.exec(ctx, `INSERT INTO audit_log (at, actor, addr, action, subject, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		encodeTime(tx.now), actor.Username, actor.Addr, action, subject, detail)
	if err != nil {
		return fmt.Errorf("write audit event: %w", err)
	}
	return nil
}

// RecordAudit writes an audit event on its own, for changes that have no
// row of their own in the database, such as a login or a logout.
func (db *DB) RecordAudit(ctx context.Context, actor lanyard.Actor, action, subject, detail string) error {
	return db.inTx(ctx, func(tx *Tx) error { return tx.insertAudit(ctx, actor, action, subject, detail) })
}

// FindAuditEvents returns audit events, newest first.
func (db *DB) FindAuditEvents(ctx context.Context, f lanyard.AuditFilter) ([]*lanyard.AuditEvent, error) {
	if !lanyard.ValidText(f.Action + f.Subject) {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The filter must be valid text.")
	}
	q := `SELECT id, at, actor, addr, action, subject, detail FROM audit_log WHERE 1=1`
	var args []any
	if f.Action != "" {
		q += ` AND action = ?`
		args = append(args, f.Action)
	}
	if f.Subject != "" {
		q += ` AND subject = ?`
		args = append(args, f.Subject)
	}
	if f.BeforeID > 0 {
		q += ` AND id < ?`
		args = append(args, f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, f.Limit)
	events, err := queryAll(ctx, db, q, args, func(s scanner) (*lanyard.AuditEvent, error) {
		var e lanyard.AuditEvent
		var at int64
		err := s.Scan(&e.ID, &at, &e.Actor, &e.Addr, &e.Action, &e.Subject, &e.Detail)
		e.Time = decodeTime(at)
		return &e, err
	})
	if err != nil {
		return nil, fmt.Errorf("find audit events: %w", err)
	}
	return events, nil
}
