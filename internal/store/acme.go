package store

import (
	"context"
	"fmt"
	"time"
)

// ACMECache is what the ACME client keeps in the database, by name. The
// values arrive sealed; the store only keeps them.
type ACMECache struct{ db *DB }

// NewACMECache returns the ACME cache of db.
func NewACMECache(db *DB) *ACMECache { return &ACMECache{db: db} }

// Get returns the value stored under name; found is false when there is none.
func (c *ACMECache) Get(ctx context.Context, name string) (sealed []byte, found bool, err error) {
	err = c.db.queryRow(ctx, `SELECT sealed FROM acme_cache WHERE name = ?`, name).Scan(&sealed)
	if errNoRows(err) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("read ACME cache: %w", err)
	}
	return sealed, true, nil
}

// Put stores sealed under name, replacing what was there.
func (c *ACMECache) Put(ctx context.Context, name string, sealed []byte) error {
	return c.db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `INSERT INTO acme_cache (name, sealed, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
			name, sealed, encodeTime(tx.now))
		if err != nil {
			return fmt.Errorf("write ACME cache: %w", err)
		}
		return nil
	})
}

// Delete removes the value stored under name, if any.
func (c *ACMECache) Delete(ctx context.Context, name string) error {
	return c.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM acme_cache WHERE name = ?`, name); err != nil {
			return fmt.Errorf("delete from ACME cache: %w", err)
		}
		return nil
	})
}

// ClaimOrder lets holder order the certificate stored under name until
// ttl from now, unless another holder's claim on it is still running. A
// holder may renew its own claim. It reports whether holder has it.
func (c *ACMECache) ClaimOrder(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	var got bool
	err := c.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `INSERT INTO acme_orders (name, holder, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE acme_orders.holder = excluded.holder OR acme_orders.expires_at <= ?`,
			name, holder, encodeTime(tx.now.Add(ttl)), encodeTime(tx.now))
		if err != nil {
			return fmt.Errorf("claim ACME order: %w", err)
		}
		n, err := res.RowsAffected()
		got = n == 1
		return err
	})
	return got, err
}

// EndOrder gives up holder's claim on name, as when its certificate is
// stored.
func (c *ACMECache) EndOrder(ctx context.Context, name, holder string) error {
	return c.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM acme_orders WHERE name = ? AND holder = ?`, name, holder); err != nil {
			return fmt.Errorf("end ACME order: %w", err)
		}
		return nil
	})
}
