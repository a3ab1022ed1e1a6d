package store

import (
	"context"
	"fmt"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
)

var _ pki.Store = (*PKIStore)(nil)

// PKIStore implements pki.Store: the CA's certificates and sealed keys, the
// certificates it issued, the key archive and the CRLs. It stores private
// keys only in the sealed form the pki package hands it.
type PKIStore struct {
	db     *DB
	status onceStmt // statusQuery
	ocsp   onceStmt // ocspQuery
}

// NewPKIStore returns a PKIStore on db.
func NewPKIStore(db *DB) *PKIStore {
	return &PKIStore{db: db, status: onceStmt{query: statusQuery}, ocsp: onceStmt{query: ocspQuery}}
}

const caColumns = `algorithm, backend, root_cert, issuing_cert, root_key_label, issuing_key_label, recovery_key, created_at`

// FindCA returns the CA, or ENOTFOUND before it is created.
func (s *PKIStore) FindCA(ctx context.Context) (*pki.CARecord, error) {
	return findCA(ctx, s.db)
}

func findCA(ctx context.Context, c conn) (*pki.CARecord, error) {
	var rec pki.CARecord
	var created int64
	err := c.queryRow(ctx, `SELECT `+caColumns+` FROM ca WHERE id = 1`).Scan(&rec.Algorithm, &rec.Backend,
		&rec.RootCert, &rec.IssuingCert, &rec.RootKeyLabel, &rec.IssuingKeyLabel, &rec.RecoveryKey, &created)
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "The CA has not been created yet.")
	} else if err != nil {
		return nil, fmt.Errorf("find CA: %w", err)
	}
	rec.CreatedAt = decodeTime(created)
	return &rec, nil
}

// CreateCA stores rec unless a CA exists, and returns the CA in the
// database. The table holds one row at most, so instances that start
// together on one PostgreSQL database end with the same CA.
func (s *PKIStore) CreateCA(ctx context.Context, actor lanyard.Actor, rec *pki.CARecord) (*pki.CARecord, error) {
	var out *pki.CARecord
	err := s.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `INSERT INTO ca (id, `+caColumns+`) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			string(rec.Algorithm), rec.Backend, rec.RootCert, rec.IssuingCert, rec.RootKeyLabel, rec.IssuingKeyLabel,
			rec.RecoveryKey, encodeTime(tx.now))
		if err != nil {
			return fmt.Errorf("insert CA: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("insert CA: %w", err)
		} else if n == 1 {
			if err := tx.insertAudit(ctx, actor, "ca.create", "ca", "algorithm="+string(rec.Algorithm)+" backend="+rec.Backend); err != nil {
				return err
			}
		}
		out, err = findCA(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// InsertKey stores a sealed private key.
func (s *PKIStore) InsertKey(ctx context.Context, k *pki.KeyRecord) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		k.CreatedAt = tx.now
		_, err := tx.exec(ctx, `INSERT INTO ca_keys (label, algorithm, sealed, created_at) VALUES (?, ?, ?, ?)`,
			k.Label, string(k.Algorithm), k.Sealed, encodeTime(tx.now))
		if isUniqueViolation(err) {
			return lanyard.Errorf(lanyard.ECONFLICT, "A key labelled %q exists already.", k.Label)
		} else if err != nil {
			return fmt.Errorf("insert key: %w", err)
		}
		return nil
	})
}

// FindKey returns the sealed key with the given label.
func (s *PKIStore) FindKey(ctx context.Context, label string) (*pki.KeyRecord, error) {
	k := pki.KeyRecord{Label: label}
	var created int64
	err := s.db.queryRow(ctx, `SELECT algorithm, sealed, created_at FROM ca_keys WHERE label = ?`, label).
		Scan(&k.Algorithm, &k.Sealed, &created)
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "No key labelled %q.", label)
	} else if err != nil {
		return nil, fmt.Errorf("find key: %w", err)
	}
	k.CreatedAt = decodeTime(created)
	return &k, nil
}

// DeleteKey removes a sealed key, such as one made by an instance that lost
// the race to create the CA.
func (s *PKIStore) DeleteKey(ctx context.Context, label string) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM ca_keys WHERE label = ?`, label); err != nil {
			return fmt.Errorf("delete key: %w", err)
		}
		return nil
	})
}
