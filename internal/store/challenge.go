package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lanyard-id/lanyard"
)

// CreateChallenge stores an authentication challenge; expired ones are
// swept on the way.
func (db *DB) CreateChallenge(ctx context.Context, publicID string, challenge []byte, expires time.Time) error {
	return db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, sweepChallenges, encodeTime(tx.now)); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO auth_challenges (public_id, challenge, expires_at) VALUES (?, ?, ?)`, publicID, challenge, encodeTime(expires))
		if err != nil {
			return fmt.Errorf("store challenge: %w", err)
		}
		return nil
	})
}

// ClaimChallenge returns a challenge and deletes it, so it is answered once.
func (db *DB) ClaimChallenge(ctx context.Context, publicID string) ([]byte, error) {
	if !lanyard.ValidText(publicID) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "There is no such challenge.")
	}
	var challenge []byte
	var expired bool
	err := db.inTx(ctx, func(tx *Tx) error {
		var expires int64
		err := tx.queryRow(ctx, `SELECT challenge, expires_at FROM auth_challenges WHERE public_id = ?`, publicID).Scan(&challenge, &expires)
		if errNoRows(err) {
			return lanyard.Errorf(lanyard.ENOTFOUND, "There is no such challenge; it may have been answered already.")
		} else if err != nil {
			return fmt.Errorf("find challenge: %w", err)
		}
		res, err := tx.exec(ctx, `DELETE FROM auth_challenges WHERE public_id = ?`, publicID)
		if err != nil {
			return fmt.Errorf("claim challenge: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return lanyard.Errorf(lanyard.ENOTFOUND, "There is no such challenge; it may have been answered already.")
		}
		// An expired challenge is used up all the same: the deletion commits.
		expired = !tx.now.Before(decodeTime(expires))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if expired {
		return nil, lanyard.Errorf(lanyard.EEXPIRED, "The challenge has expired.")
	}
	return challenge, nil
}
