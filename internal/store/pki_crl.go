package store

import (
	"context"
	"fmt"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
)

// keptCRLs is how many CRLs stay in the table; older ones are of no use,
// since every instance serves the latest.
const keptCRLs = 10

// LatestCRL returns the CRL with the highest number.
func (s *PKIStore) LatestCRL(ctx context.Context) (*pki.CRLRecord, error) {
	var crl pki.CRLRecord
	var this, next int64
	err := s.db.queryRow(ctx, `SELECT number, this_update, next_update, der FROM crls ORDER BY number DESC LIMIT 1`).
		Scan(&crl.Number, &this, &next, &crl.DER)
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "No CRL has been made yet.")
	} else if err != nil {
		return nil, fmt.Errorf("find latest CRL: %w", err)
	}
	crl.ThisUpdate, crl.NextUpdate = decodeTime(this), decodeTime(next)
	return &crl, nil
}

// InsertCRL stores a CRL and drops old ones. The number is the primary key,
// so two instances signing the same number conflict and the loser retries.
func (s *PKIStore) InsertCRL(ctx context.Context, crl *pki.CRLRecord) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `INSERT INTO crls (number, this_update, next_update, der) VALUES (?, ?, ?, ?)`,
			crl.Number, encodeTime(crl.ThisUpdate), encodeTime(crl.NextUpdate), crl.DER)
		if isUniqueViolation(err) {
			return lanyard.Errorf(lanyard.ECONFLICT, "CRL number %d exists already.", crl.Number)
		} else if err != nil {
			return fmt.Errorf("insert CRL: %w", err)
		}
		if _, err := tx.exec(ctx, `DELETE FROM crls WHERE number <= ?`, crl.Number-keptCRLs); err != nil {
			return fmt.Errorf("prune CRLs: %w", err)
		}
		return nil
	})
}
