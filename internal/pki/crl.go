package pki

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"time"

	"github.com/lanyard-id/lanyard"
)

// crlAttempts bounds the retries when another instance published a CRL
// with the same number at the same moment.
const crlAttempts = 5

// RefreshCRL signs and publishes a new complete CRL of the issuing CA: every
// revoked or held certificate that has not expired, with a CRL number one
// higher than the last and nextUpdate CRLValidity later. The server calls it
// after each status change and on a schedule (hourly is plenty for a one-day
// validity). The CRL is stored in the database, so every instance serves the
// same bytes.
func (ca *CA) RefreshCRL(ctx context.Context) error {
	ca.crlMu.Lock()
	defer ca.crlMu.Unlock()
	return ca.refreshCRL(ctx)
}

// refreshCRL is RefreshCRL with crlMu held.
func (ca *CA) refreshCRL(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		// The number is read before the revocations, so a CRL with a higher
		// number never reflects an older state than one with a lower number.
		number := int64(1)
		latest, err := ca.store.LatestCRL(ctx)
		if err == nil {
			number = latest.Number + 1
		} else if lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
			return err
		}
		// The generation is read before the revocations too: every change
		// it counts has committed, so the CRL lists it.
		covers, err := ca.store.CRLGeneration(ctx)
		if err != nil {
			return err
		}
		now := ca.now().Truncate(time.Second)
		revoked, err := ca.store.RevokedCertificates(ctx, now)
		if err != nil {
			return err
		}
		tmpl := &x509.RevocationList{
			Number:     big.NewInt(number),
			ThisUpdate: now,
			NextUpdate: now.Add(ca.cfg.CRLValidity),
		}
		for _, c := range revoked {
			serial, _ := new(big.Int).SetString(c.Serial, 16)
			tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
				SerialNumber: serial, RevocationTime: c.RevokedAt.Truncate(time.Second), ReasonCode: int(c.Reason),
			})
		}
		der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.issuer, ca.signer)
		if err != nil {
			return fmt.Errorf("sign CRL: %w", err)
		}
		err = ca.store.InsertCRL(ctx, &CRLRecord{Number: number, ThisUpdate: now, NextUpdate: tmpl.NextUpdate, Covers: covers, DER: der})
		if lanyard.ErrorCode(err) == lanyard.ECONFLICT && attempt < crlAttempts {
			continue
		} else if err != nil {
			return fmt.Errorf("publish CRL: %w", err)
		}
		ca.crl.published()
		return nil
	}
}

// RefreshCRLIfStale publishes a CRL when there is none or the latest is
// past half its validity, as after a long stop; the scheduled refresh calls
// it, so instances of a cluster do not each re-sign a fresh CRL.
func (ca *CA) RefreshCRLIfStale(ctx context.Context) error {
	latest, err := ca.store.LatestCRL(ctx)
	if err == nil && ca.now().Before(latest.ThisUpdate.Add(ca.cfg.CRLValidity/2)) {
		return nil
	} else if err != nil && lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		return err
	}
	return ca.RefreshCRL(ctx)
}

// CRL returns the latest CRL, as GET /pki/crl serves it, making one if
// none exists yet.
func (ca *CA) CRL(ctx context.Context) (*CRLRecord, error) {
	if err := ca.PublishOwedCRL(ctx); err != nil {
		return nil, err
	}
	crl, err := ca.store.LatestCRL(ctx)
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		if err := ca.RefreshCRL(ctx); err != nil {
			return nil, err
		}
		crl, err = ca.store.LatestCRL(ctx)
	}
	return crl, err
}
