package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
)

// keptCRLs is how many complete CRLs stay in the table; older ones are of
// no use, since every instance serves the latest.
const keptCRLs = 10

// LatestCRL returns the complete CRL with the highest number.
func (s *PKIStore) LatestCRL(ctx context.Context) (*pki.CRLRecord, error) {
	return s.latestCRL(ctx, true)
}

// LatestCRLHeader returns the complete CRL with the highest number
// without its bytes, which may be many megabytes, or ENOTFOUND.
func (s *PKIStore) LatestCRLHeader(ctx context.Context) (*pki.CRLRecord, error) {
	return s.latestCRL(ctx, false)
}

func (s *PKIStore) latestCRL(ctx context.Context, withDER bool) (*pki.CRLRecord, error) {
	var crl pki.CRLRecord
	var this, next int64
	q, dest := `SELECT number, this_update, next_update, covers`, []any{&crl.Number, &this, &next, &crl.Covers}
	if withDER {
		q, dest = q+`, der`, append(dest, &crl.DER)
	}
	err := s.db.queryRow(ctx, q+` FROM crls ORDER BY number DESC LIMIT 1`).Scan(dest...)
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "No CRL has been made yet.")
	} else if err != nil {
		return nil, fmt.Errorf("find latest CRL: %w", err)
	}
	crl.ThisUpdate, crl.NextUpdate = decodeTime(this), decodeTime(next)
	return &crl, nil
}

// InsertCRL stores a complete CRL and drops old ones. The number is the
// primary key, so two instances signing the same number conflict and the
// loser retries.
func (s *PKIStore) InsertCRL(ctx context.Context, crl *pki.CRLRecord) error {
	return s.db.inSoloTx(ctx, func(tx *Tx) error {
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

// CRLOwed reports whether a status changed after the latest complete CRL
// was made.
func (s *PKIStore) CRLOwed(ctx context.Context) (bool, error) {
	var owed int
	err := s.db.queryRow(ctx, `SELECT CASE WHEN g.generation > COALESCE((SELECT MAX(covers) FROM crls), 0) THEN 1 ELSE 0 END
		FROM crl_generation g WHERE g.id = 1`).Scan(&owed)
	if err != nil {
		return false, fmt.Errorf("read whether a CRL is owed: %w", err)
	}
	return owed == 1, nil
}

// EachRevoked calls fn for every revoked or held certificate of shard that
// has not expired at now, with what a CRL entry needs; shard "" means every
// shard, for the complete CRL. It reads the covering index of revoked
// certificates, so a shard costs what it lists, whatever the others hold.
func (s *PKIStore) EachRevoked(ctx context.Context, shard string, now time.Time,
	fn func(serial []byte, revokedAt time.Time, reason lanyard.RevocationReason) error) error {
	q := `SELECT serial, revoked_at, reason FROM certificates WHERE status <> 'valid' AND not_after >= ?`
	args := []any{encodeTime(now)}
	if shard != "" {
		q += ` AND crl_shard = ?`
		args = append(args, shard)
	}
	rows, err := s.db.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("find revoked certificates: %w", err)
	}
	defer rows.Close()
	var serial sql.RawBytes // valid until the next row: fn is done with it by then
	var at int64
	var reason int
	for rows.Next() {
		if err := rows.Scan(&serial, &at, &reason); err != nil {
			return fmt.Errorf("find revoked certificates: %w", err)
		}
		if err := fn(serial, decodeTime(at), lanyard.RevocationReason(reason)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find revoked certificates: %w", err)
	}
	return nil
}

// CRLShards lists every shard with the generation of its statuses and what
// its latest CRL is, without the CRL's bytes.
func (s *PKIStore) CRLShards(ctx context.Context) ([]pki.CRLShardState, error) {
	shards, err := queryAll(ctx, s.db, `SELECT s.shard, s.generation, COALESCE(c.number, 0), COALESCE(c.covers, 0), COALESCE(c.this_update, 0)
		FROM crl_shards s LEFT JOIN crl_shard_crls c ON c.shard = s.shard ORDER BY s.shard`, nil,
		func(sc scanner) (pki.CRLShardState, error) {
			var st pki.CRLShardState
			var this int64
			err := sc.Scan(&st.Shard, &st.Generation, &st.Number, &st.Covers, &this)
			st.ThisUpdate = decodeTime(this)
			return st, err
		})
	if err != nil {
		return nil, fmt.Errorf("list CRL shards: %w", err)
	}
	return shards, nil
}

// CRLShardGeneration returns the generation of the statuses of shard's
// certificates, or ENOTFOUND for a shard no certificate names.
func (s *PKIStore) CRLShardGeneration(ctx context.Context, shard string) (int64, error) {
	var g int64
	err := s.db.queryRow(ctx, `SELECT generation FROM crl_shards WHERE shard = ?`, shard).Scan(&g)
	if errNoRows(err) {
		return 0, lanyard.Errorf(lanyard.ENOTFOUND, "No certificate names the CRL shard %s.", shard)
	} else if err != nil {
		return 0, fmt.Errorf("read CRL shard generation: %w", err)
	}
	return g, nil
}

// FindShardCRL returns the latest CRL of shard, or ENOTFOUND.
func (s *PKIStore) FindShardCRL(ctx context.Context, shard string) (*pki.CRLRecord, error) {
	crl := pki.CRLRecord{Shard: shard}
	var this, next int64
	err := s.db.queryRow(ctx, `SELECT number, covers, this_update, next_update, der FROM crl_shard_crls WHERE shard = ?`, shard).
		Scan(&crl.Number, &crl.Covers, &this, &next, &crl.DER)
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "No CRL of shard %s has been made yet.", shard)
	} else if err != nil {
		return nil, fmt.Errorf("find CRL of shard %s: %w", shard, err)
	}
	crl.ThisUpdate, crl.NextUpdate = decodeTime(this), decodeTime(next)
	return &crl, nil
}

// PublishShardCRL makes crl the latest CRL of its shard, provided the
// latest so far has the number before crl's (none, for number 1). An
// instance that signed the same number at the same moment finds the
// other's CRL there and gets ECONFLICT, so no two CRLs of one shard ever
// share a number.
func (s *PKIStore) PublishShardCRL(ctx context.Context, crl *pki.CRLRecord) error {
	return s.db.inSoloTx(ctx, func(tx *Tx) error {
		var err error
		n := int64(1)
		if crl.Number == 1 {
			_, err = tx.exec(ctx, `INSERT INTO crl_shard_crls (shard, number, covers, this_update, next_update, der) VALUES (?, ?, ?, ?, ?, ?)`,
				crl.Shard, crl.Number, crl.Covers, encodeTime(crl.ThisUpdate), encodeTime(crl.NextUpdate), crl.DER)
			if isUniqueViolation(err) {
				n = 0
			}
		} else {
			res, uerr := tx.exec(ctx, `UPDATE crl_shard_crls SET number = ?, covers = ?, this_update = ?, next_update = ?, der = ?
				WHERE shard = ? AND number = ?`,
				crl.Number, crl.Covers, encodeTime(crl.ThisUpdate), encodeTime(crl.NextUpdate), crl.DER, crl.Shard, crl.Number-1)
			err = uerr
			if err == nil {
				n, err = res.RowsAffected()
			}
		}
		if n == 0 {
			return lanyard.Errorf(lanyard.ECONFLICT, "CRL number %d of shard %s exists already.", crl.Number, crl.Shard)
		} else if err != nil {
			return fmt.Errorf("publish CRL of shard %s: %w", crl.Shard, err)
		}
		return nil
	})
}

// DeleteCRLShard forgets a shard whose certificates have all expired.
func (s *PKIStore) DeleteCRLShard(ctx context.Context, shard string) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		for _, q := range []string{`DELETE FROM crl_shard_crls WHERE shard = ?`, `DELETE FROM crl_shards WHERE shard = ?`} {
			if _, err := tx.exec(ctx, q, shard); err != nil {
				return fmt.Errorf("delete CRL shard %s: %w", shard, err)
			}
		}
		return nil
	})
}

// recordCRLShard makes sure the shard a certificate names exists, owing
// its first CRL, so that the address in the certificate serves a CRL even
// before any of its certificates is revoked. Only a shard's first
// certificate in this process writes.
func (tx *Tx) recordCRLShard(ctx context.Context, shard string) error {
	if shard == "" {
		return nil
	}
	if _, known := tx.db.crlShards.Load(shard); known || slices.Contains(tx.newShards, shard) {
		return nil
	}
	if err := tx.execLater(ctx, nil, `INSERT INTO crl_shards (shard, generation) VALUES (?, 1) ON CONFLICT (shard) DO NOTHING`, shard); err != nil {
		return fmt.Errorf("record CRL shard: %w", err)
	}
	tx.newShards = append(tx.newShards, shard)
	return nil
}

// markCRLOwed records in tx that the status of a certificate of shard
// changed, so that the complete CRL and the shard's are owed from the
// moment tx commits.
func (tx *Tx) markCRLOwed(shard string) {
	tx.crlOwed = true
	if shard != "" && !slices.Contains(tx.owedShards, shard) {
		tx.owedShards = append(tx.owedShards, shard)
	}
}

// writeCRLOwed adds one to the generation of each shard tx changed a
// status in and to the CRL generation. The rows are written at the
// commit, once per transaction, in one order (the shards sorted, then the
// generation every such transaction of the cluster writes), so they are
// locked for the shortest time and never in a cycle.
func (tx *Tx) writeCRLOwed(ctx context.Context) error {
	if !tx.crlOwed {
		return nil
	}
	tx.crlOwed = false
	slices.Sort(tx.owedShards)
	for _, shard := range tx.owedShards {
		if err := tx.execLater(ctx, nil, `INSERT INTO crl_shards (shard, generation) VALUES (?, 1)
			ON CONFLICT (shard) DO UPDATE SET generation = crl_shards.generation + 1`, shard); err != nil {
			return fmt.Errorf("mark CRL shard owed: %w", err)
		}
	}
	tx.owedShards = nil
	if err := tx.execLater(ctx, nil, `UPDATE crl_generation SET generation = generation + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("mark CRL owed: %w", err)
	}
	return nil
}
