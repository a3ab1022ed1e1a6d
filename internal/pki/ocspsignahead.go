package pki

import (
	"context"
	"encoding/asn1"
	"log/slog"
	"math/big"
	"time"

	"github.com/lanyard-id/lanyard"
)

// presign signs the response of c in its status at now, for the SHA-1
// CertID RFC 5019 clients send, without certificates: the issuing CA
// signs it, so the client has its certificate already.
func (ca *CA) presign(c *lanyard.Certificate, now time.Time) ([]byte, time.Time, error) {
	serial, ok := new(big.Int).SetString(c.Serial, 16)
	if !ok {
		return nil, time.Time{}, lanyard.Errorf(lanyard.EINVALID, "%q is not a certificate serial number.", c.Serial)
	}
	h := hashOIDs["1.3.14.3.2.26"]
	id, err := asn1.Marshal(certID{
		HashAlgorithm: pkixSHA1(),
		NameHash:      ca.responder.nameHash[h],
		IssuerKeyHash: ca.responder.keyHash[h],
		SerialNumber:  serial,
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	now = now.UTC().Truncate(time.Second)
	single := singleResponse{CertID: asn1.RawValue{FullBytes: id}, ThisUpdate: now, NextUpdate: now.Add(ocspValidity)}
	switch c.Status {
	case lanyard.CertificateValid:
		single.Good = true
	default:
		single.Revoked = revokedInfo{RevocationTime: c.RevokedAt.UTC().Truncate(time.Second), Reason: asn1.Enumerated(c.Reason)}
	}
	der, err := ca.responder.sign(responseData{ResponderID: ca.responder.responderID, ProducedAt: now, Responses: []singleResponse{single}})
	return der, now, err
}

// SignAheadOCSP signs again, in batches, the stored responses that are
// ocspRefreshAge old or missing, and returns how many it stored. One
// instance of a cluster does it at a time, under a lease in the database;
// the others return at once. Run it every few minutes.
func (ca *CA) SignAheadOCSP(ctx context.Context) (int, error) {
	p := ca.presigned
	if p == nil {
		return 0, nil
	}
	held, err := p.store.AcquireOCSPLease(ctx, p.holder, ca.now().Add(ocspLeaseTime))
	if err != nil || !held {
		return 0, err
	}
	defer func() {
		if err := p.store.ReleaseOCSPLease(context.WithoutCancel(ctx), p.holder); err != nil {
			slog.Warn("release the OCSP signing lease", "err", err)
		}
	}()
	n := 0
	for {
		now := ca.now()
		recs, err := p.store.AgingOCSPResponses(ctx, now.Add(-ocspRefreshAge), signAheadBatch)
		if err != nil || len(recs) == 0 {
			return n, err
		}
		for _, r := range recs {
			if r.NotAfter.Before(now) {
				r.Retired = true
				continue
			}
			if r.DER, r.ThisUpdate, err = ca.presign(r.certificate(), now); err != nil {
				return n, err
			}
		}
		if err := p.store.StoreOCSPResponses(ctx, recs); err != nil {
			return n, err
		}
		n += len(recs)
		if len(recs) < signAheadBatch {
			return n, nil
		}
		if held, err := p.store.AcquireOCSPLease(ctx, p.holder, ca.now().Add(ocspLeaseTime)); err != nil || !held {
			return n, err
		}
	}
}
