package store

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
)

var _ pki.OCSPStore = (*PKIStore)(nil)

// ocspRetired is the ocsp_this_update of a certificate whose response is
// no longer refreshed, because it has expired: it sorts after every
// response still refreshed.
const ocspRetired = math.MaxInt64

// presigned is a certificate's OCSP response as its columns store it; the
// zero value stores none.
type presigned struct {
	der        []byte
	status     string
	thisUpdate int64
}

// ocspStatusKey names a status the way ocsp_status records the status a
// response was signed for.
func ocspStatusKey(status string, revokedAt int64, reason int) string {
	return status + " " + strconv.FormatInt(revokedAt, 10) + " " + strconv.Itoa(reason)
}

// presignOCSP signs c's OCSP response for its status as of tx. With no
// signer set, as in the administration commands, or when signing fails, it
// returns none: the responder signs the response when it is first asked,
// and the sign-ahead job stores it, but the status change itself never
// fails for it.
func (tx *Tx) presignOCSP(c *lanyard.Certificate) presigned {
	sign := tx.db.ocspSigner.Load()
	if sign == nil {
		return presigned{}
	}
	der, this, err := (*sign)(c, tx.now)
	if err != nil {
		slog.Warn("sign the OCSP response ahead; it is signed when asked for", "serial", c.Serial, "err", err)
		return presigned{}
	}
	return presigned{der: der, status: ocspStatusKey(string(c.Status), encodeTime(c.RevokedAt), int(c.Reason)), thisUpdate: encodeTime(this)}
}

// SetOCSPSigner makes issuance and status changes on this database sign
// the certificate's OCSP response in their transaction.
func (s *PKIStore) SetOCSPSigner(sign pki.OCSPSigner) { s.db.ocspSigner.Store(&sign) }

// ocspQuery reads a certificate's status and its stored response by the
// serial's unique index: what OCSP reads when memory does not answer.
const ocspQuery = `SELECT status, revoked_at, reason, not_after, ocsp_der, ocsp_status, ocsp_this_update FROM certificates WHERE serial = ?`

// FindOCSPResponse returns the certificate's status and the response
// stored for it, if the response is for that status.
func (s *PKIStore) FindOCSPResponse(ctx context.Context, serial string) (*pki.OCSPRecord, error) {
	row, err := s.ocsp.queryRow(ctx, s.db, serial)
	if err != nil {
		return nil, err
	}
	r := pki.OCSPRecord{Serial: serial}
	var revoked, notAfter, this int64
	var der []byte
	var key string
	err = row.Scan(&r.Status, &revoked, &r.Reason, &notAfter, &der, &key, &this)
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "No certificate with serial %s.", serial)
	} else if err != nil {
		return nil, fmt.Errorf("find OCSP response: %w", err)
	}
	r.RevokedAt, r.NotAfter = decodeTime(revoked), decodeTime(notAfter)
	r.Retired = this == ocspRetired
	if der != nil && !r.Retired && key == ocspStatusKey(string(r.Status), revoked, int(r.Reason)) {
		r.DER, r.ThisUpdate = der, decodeTime(this)
	}
	return &r, nil
}

// StoreOCSPResponses stores the responses in one transaction. Each is
// conditional on the status it was signed for and on being newer than the
// stored one, so a response signed while the status changed is dropped.
func (s *PKIStore) StoreOCSPResponses(ctx context.Context, recs []*pki.OCSPRecord) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		for _, r := range recs {
			var err error
			if r.Retired {
				_, err = tx.exec(ctx, `UPDATE certificates SET ocsp_der = NULL, ocsp_status = '', ocsp_this_update = ? WHERE serial = ?`, int64(ocspRetired), r.Serial)
			} else {
				revoked := encodeTime(r.RevokedAt)
				_, err = tx.exec(ctx, `UPDATE certificates SET ocsp_der = ?, ocsp_status = ?, ocsp_this_update = ?
					WHERE serial = ? AND status = ? AND revoked_at = ? AND reason = ? AND ocsp_this_update < ?`,
					r.DER, ocspStatusKey(string(r.Status), revoked, int(r.Reason)), encodeTime(r.ThisUpdate),
					r.Serial, string(r.Status), revoked, int(r.Reason), encodeTime(r.ThisUpdate))
			}
			if err != nil {
				return fmt.Errorf("store OCSP response: %w", err)
			}
		}
		return nil
	})
}

// AgingOCSPResponses lists the certificates whose response is older than
// before, or missing, oldest first, by the index on ocsp_this_update.
func (s *PKIStore) AgingOCSPResponses(ctx context.Context, before time.Time, limit int) ([]*pki.OCSPRecord, error) {
	recs, err := queryAll(ctx, s.db, `SELECT serial, status, revoked_at, reason, not_after, ocsp_this_update FROM certificates
		WHERE ocsp_this_update < ? ORDER BY ocsp_this_update LIMIT ?`, []any{encodeTime(before), limit},
		func(sc scanner) (*pki.OCSPRecord, error) {
			var r pki.OCSPRecord
			var revoked, notAfter, this int64
			err := sc.Scan(&r.Serial, &r.Status, &revoked, &r.Reason, &notAfter, &this)
			r.RevokedAt, r.NotAfter, r.ThisUpdate = decodeTime(revoked), decodeTime(notAfter), decodeTime(this)
			return &r, err
		})
	if err != nil {
		return nil, fmt.Errorf("find aging OCSP responses: %w", err)
	}
	return recs, nil
}

// AcquireOCSPLease takes the sign-ahead lease if it is free, expired or
// holder's already, until the given time.
func (s *PKIStore) AcquireOCSPLease(ctx context.Context, holder string, until time.Time) (bool, error) {
	var held bool
	err := s.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE ocsp_signer_lease SET holder = ?, expires_at = ? WHERE id = 1 AND (holder = ? OR expires_at < ?)`,
			holder, encodeTime(until), holder, encodeTime(tx.now))
		if err != nil {
			return fmt.Errorf("take the OCSP signing lease: %w", err)
		}
		n, err := res.RowsAffected()
		held = n == 1
		return err
	})
	return held, err
}

// ReleaseOCSPLease frees the lease if holder has it.
func (s *PKIStore) ReleaseOCSPLease(ctx context.Context, holder string) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `UPDATE ocsp_signer_lease SET holder = '', expires_at = 0 WHERE id = 1 AND holder = ?`, holder)
		if err != nil {
			return fmt.Errorf("release the OCSP signing lease: %w", err)
		}
		return nil
	})
}
