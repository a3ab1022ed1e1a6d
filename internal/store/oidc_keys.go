package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/oidc"
)

// Keys returns every ID token signing key, active ones first, newest first.
func (s *OIDCStore) Keys(ctx context.Context) ([]*oidc.Key, error) {
	ks, err := queryAll(ctx, s.db, `SELECT id, algorithm, sealed, public_key, created_at, retired_at FROM oidc_keys
		ORDER BY CASE WHEN retired_at = 0 THEN 0 ELSE 1 END, created_at DESC, id`, nil, func(sc scanner) (*oidc.Key, error) {
		var k oidc.Key
		var created, retired int64
		err := sc.Scan(&k.ID, &k.Algorithm, &k.Sealed, &k.PublicKey, &created, &retired)
		k.CreatedAt, k.RetiredAt = decodeTime(created), decodeTime(retired)
		return &k, err
	})
	if err != nil {
		return nil, fmt.Errorf("find signing keys: %w", err)
	}
	return ks, nil
}

// InsertKey stores the first active key of an algorithm.
func (s *OIDCStore) InsertKey(ctx context.Context, k *oidc.Key) error {
	err := s.db.inTx(ctx, func(tx *Tx) error { return tx.insertKey(ctx, k) })
	if isUniqueViolation(err) {
		return lanyard.Errorf(lanyard.ECONFLICT, "An active %s signing key exists already.", k.Algorithm)
	} else if err != nil {
		return fmt.Errorf("store signing key: %w", err)
	}
	return nil
}

func (tx *Tx) insertKey(ctx context.Context, k *oidc.Key) error {
	k.CreatedAt = tx.now
	_, err := tx.exec(ctx, `INSERT INTO oidc_keys (id, algorithm, sealed, public_key, created_at) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.Sealed, k.PublicKey, encodeTime(tx.now))
	return err
}

// RotateKeys retires the active keys of the new keys' algorithms and
// stores the new ones, in one transaction, so every instance sees either
// the old key or the new one active, never none.
func (s *OIDCStore) RotateKeys(ctx context.Context, actor lanyard.Actor, keys []*oidc.Key, prune time.Time) error {
	err := s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM oidc_keys WHERE retired_at <> 0 AND retired_at < ?`, encodeTime(prune)); err != nil {
			return err
		}
		var ids []string
		for _, k := range keys {
			if _, err := tx.exec(ctx, `UPDATE oidc_keys SET retired_at = ? WHERE algorithm = ? AND retired_at = 0`, encodeTime(tx.now), k.Algorithm); err != nil {
				return err
			}
			if err := tx.insertKey(ctx, k); err != nil {
				return err
			}
			ids = append(ids, k.Algorithm+" "+k.ID)
		}
		return tx.insertAudit(ctx, actor, "oidc.key.rotate", "", "new ID token signing keys: "+strings.Join(ids, ", "))
	})
	if err != nil {
		return fmt.Errorf("rotate signing keys: %w", err)
	}
	return nil
}
