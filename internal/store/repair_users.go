package store

import (
	"context"
	"fmt"

	"github.com/lanyard-id/lanyard"
)

// RepairUserMobileIDs carries the state of users who are not active to
// their mobile IDs where an interrupted change (or an older version) left
// them behind: an active mobile ID of an inactive user becomes inactive,
// its certificates on hold, and every live mobile ID of a locked user is
// locked, its certificates revoked. It never reactivates anything. Each
// user is mended in a transaction of its own, audited; it returns how many
// mobile IDs it changed.
func (db *DB) RepairUserMobileIDs(ctx context.Context) (int, error) {
	// From the live mobile IDs, by the index on state: the locked ones,
	// most of history, are never read.
	users, err := queryAll(ctx, db, `SELECT DISTINCT m.user_id FROM mobile_ids m JOIN users u ON u.id = m.user_id
		WHERE (u.state <> ? AND m.state = ?) OR (u.state = ? AND m.state IN (?, ?))`,
		[]any{string(lanyard.UserActive), string(lanyard.MobileIDActive), string(lanyard.UserLocked),
			string(lanyard.MobileIDRegistered), string(lanyard.MobileIDInactive)}, scanInt64)
	if err != nil {
		return 0, fmt.Errorf("find mobile IDs behind their user: %w", err)
	}
	n := 0
	for _, userID := range users {
		err := db.inTx(ctx, func(tx *Tx) error {
			if err := tx.lockUser(ctx, userID); err != nil {
				return err
			}
			var state lanyard.UserState
			if err := tx.queryRow(ctx, `SELECT state FROM users WHERE id = ?`, userID).Scan(&state); err != nil {
				return fmt.Errorf("read user state: %w", err)
			}
			if state == lanyard.UserActive {
				return nil // reactivated meanwhile; a repair never reactivates
			}
			changed, err := tx.mobileIDsFollow(ctx, lanyard.SystemActor, userID, state)
			n += changed
			return err
		})
		if err != nil {
			return n, fmt.Errorf("repair mobile IDs of user #%d: %w", userID, err)
		}
	}
	return n, nil
}
