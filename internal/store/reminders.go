package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lanyard-id/lanyard"
)

var _ lanyard.ReminderStore = (*DB)(nil)

// expiringFrom selects, grouped by mobile ID, the active mobile IDs of
// active users whose earliest issued certificate ends in a window. Its
// arguments are the two states and the window's bounds, so that the
// queries below share one definition of an expiring mobile ID.
const expiringFrom = ` FROM mobile_ids m
	JOIN users u ON u.id = m.user_id
	JOIN mobile_id_certificates mc ON mc.mobile_id = m.id AND mc.recovered = 0
	JOIN certificates c ON c.serial = mc.serial
	WHERE m.state = ? AND u.state = ?
	GROUP BY m.id
	HAVING MIN(c.not_after) > ? AND MIN(c.not_after) <= ?`

// extraScanner scans a row into the destinations of a scan function and
// then into extra, for rows with columns added after a known set.
type extraScanner struct {
	s     scanner
	extra []any
}

func (e extraScanner) Scan(dest ...any) error { return e.s.Scan(append(dest, e.extra...)...) }

// ExpiringMobileIDs lists the active mobile IDs of active users expiring
// after from and no later than to, soonest first, with their users and the
// reminders recorded for them. It reads without a transaction, in three
// queries; a mobile ID whose user changed in between is left out.
func (db *DB) ExpiringMobileIDs(ctx context.Context, from, to time.Time) ([]*lanyard.ExpiringMobileID, error) {
	args := []any{string(lanyard.MobileIDActive), string(lanyard.UserActive), encodeTime(from), encodeTime(to)}
	list, err := queryAll(ctx, db, `SELECT `+mobileIDColumns+`, e.expires_at FROM mobile_ids
		JOIN (SELECT m.id AS mid, MIN(c.not_after) AS expires_at`+expiringFrom+`) e ON e.mid = mobile_ids.id
		ORDER BY e.expires_at, mobile_ids.id`, args, func(s scanner) (*lanyard.ExpiringMobileID, error) {
		var expires int64
		m, err := scanMobileID(extraScanner{s: s, extra: []any{&expires}})
		if err != nil {
			return nil, err
		}
		return &lanyard.ExpiringMobileID{MobileID: m, ExpiresAt: decodeTime(expires)}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("find expiring mobile IDs: %w", err)
	}
	if len(list) == 0 {
		return list, nil
	}
	users, err := queryAll(ctx, db, `SELECT `+userColumns+` FROM users WHERE id IN (SELECT m.user_id`+expiringFrom+`)`, args, scanUser)
	if err != nil {
		return nil, fmt.Errorf("find users of expiring mobile IDs: %w", err)
	}
	type sent struct {
		mobileID int64
		kind     string
	}
	sents, err := queryAll(ctx, db, `SELECT mobile_id, kind FROM mobile_id_reminders WHERE mobile_id IN (SELECT m.id`+expiringFrom+`)`,
		args, func(s scanner) (sent, error) {
			var r sent
			return r, s.Scan(&r.mobileID, &r.kind)
		})
	if err != nil {
		return nil, fmt.Errorf("find reminders of expiring mobile IDs: %w", err)
	}
	byUser := make(map[int64]*lanyard.User, len(users))
	for _, u := range users {
		byUser[u.ID] = u
	}
	kinds := make(map[int64][]string)
	for _, r := range sents {
		kinds[r.mobileID] = append(kinds[r.mobileID], r.kind)
	}
	out := list[:0]
	for _, e := range list {
		if e.User = byUser[e.MobileID.UserID]; e.User != nil {
			e.Sent = kinds[e.MobileID.ID]
			out = append(out, e)
		}
	}
	return out, nil
}

// RecordReminder claims the reminder kind of m by inserting its row and,
// when the row is new, queues the mails and writes the audit event in the
// same transaction. A row that exists already (another instance or an
// earlier run sent the reminder) is no error: it returns false, and
// nothing is queued. The insert itself is the claim, so that two instances
// racing for one reminder never both send it.
func (db *DB) RecordReminder(ctx context.Context, actor lanyard.Actor, m *lanyard.MobileID, kind, action, detail string, mails ...lanyard.Mail) (bool, error) {
	var claimed bool
	err := db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `INSERT INTO mobile_id_reminders (mobile_id, kind, created_at) VALUES (?, ?, ?)
			ON CONFLICT (mobile_id, kind) DO NOTHING`, m.ID, kind, encodeTime(tx.now))
		if err != nil {
			return fmt.Errorf("record reminder %s: %w", kind, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("record reminder %s: %w", kind, err)
		} else if n == 0 {
			return nil
		}
		if err := tx.queueMails(ctx, actor, mails...); err != nil {
			return err
		}
		if err := tx.insertAudit(ctx, actor, action, m.PublicID, kind+": "+detail); err != nil {
			return err
		}
		claimed = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return claimed, nil
}
