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
	err := s.db.queryRow(ctx, `SELECT number, this_update, next_update, covers, der FROM crls ORDER BY number DESC LIMIT 1`).
		Scan(&crl.Number, &this, &next, &crl.Covers, &crl.DER)
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
		_, err := tx.exec(ctx, `INSERT INTO crls (number, this_update, next_update, covers, der) VALUES (?, ?, ?, ?, ?)`,
			crl.Number, encodeTime(crl.ThisUpdate), encodeTime(crl.NextUpdate), crl.Covers, crl.DER)
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

// CRLGeneration returns the generation of certificate statuses: it grows
// with every transaction that changes one.
func (s *PKIStore) CRLGeneration(ctx context.Context) (int64, error) {
	var g int64
	if err := s.db.queryRow(ctx, `SELECT generation FROM crl_generation WHERE id = 1`).Scan(&g); err != nil {
		return 0, fmt.Errorf("read CRL generation: %w", err)
	}
	return g, nil
}

// CRLOwed reports whether a status changed after the latest CRL was made.
func (s *PKIStore) CRLOwed(ctx context.Context) (bool, error) {
	var owed int
	err := s.db.queryRow(ctx, `SELECT CASE WHEN g.generation > COALESCE((SELECT MAX(covers) FROM crls), 0) THEN 1 ELSE 0 END
		FROM crl_generation g WHERE g.id = 1`).Scan(&owed)
	if err != nil {
		return false, fmt.Errorf("read whether a CRL is owed: %w", err)
	}
	return owed == 1, nil
}

// markCRLOwed records in tx that a certificate status changed, so that a
// CRL is owed from the moment tx commits. The generation grows at the
// commit, once per transaction: its row is the one every such transaction
// of the cluster writes, so it is locked last and for the shortest time.
func (tx *Tx) markCRLOwed() { tx.crlOwed = true }

// writeCRLOwed adds one to the CRL generation if tx changed a status.
func (tx *Tx) writeCRLOwed(ctx context.Context) error {
	if !tx.crlOwed {
		return nil
	}
	tx.crlOwed = false
	if _, err := tx.exec(ctx, `UPDATE crl_generation SET generation = generation + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("mark CRL owed: %w", err)
	}
	return nil
}
