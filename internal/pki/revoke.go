package pki

import (
	"context"
	"fmt"
	"time"

	"github.com/lanyard-id/lanyard"
)

// RevokeCertificate revokes a certificate for good with an RFC 5280 reason
// and publishes a new CRL. Revoking it again changes nothing and succeeds.
func (ca *CA) RevokeCertificate(ctx context.Context, actor lanyard.Actor, serial string, reason lanyard.RevocationReason) (*lanyard.Certificate, error) {
	return ca.changeStatus(ctx, actor, serial, "certificate.revoke", func(c *lanyard.Certificate, now time.Time) (bool, string, error) {
		changed, err := c.Revoke(reason, now)
		return changed, "reason=" + reason.String(), err
	})
}

// HoldCertificate suspends a certificate (reason certificateHold), as for an
// inactive mobile ID, and publishes a new CRL.
func (ca *CA) HoldCertificate(ctx context.Context, actor lanyard.Actor, serial string) (*lanyard.Certificate, error) {
	return ca.changeStatus(ctx, actor, serial, "certificate.hold", func(c *lanyard.Certificate, now time.Time) (bool, string, error) {
		changed, err := c.Hold(now)
		return changed, "reason=certificateHold", err
	})
}

// ReleaseCertificate ends the hold of a certificate and publishes a new CRL
// without it.
func (ca *CA) ReleaseCertificate(ctx context.Context, actor lanyard.Actor, serial string) (*lanyard.Certificate, error) {
	return ca.changeStatus(ctx, actor, serial, "certificate.release", func(c *lanyard.Certificate, now time.Time) (bool, string, error) {
		changed, err := c.Release()
		return changed, "", err
	})
}

// changeStatus applies a status change and, when something changed,
// regenerates the CRL. A CRL that fails here is logged, not returned: the
// change is committed, OCSP reflects it at once, and the scheduled refresh
// publishes the CRL.
func (ca *CA) changeStatus(ctx context.Context, actor lanyard.Actor, serial, action string,
	change func(*lanyard.Certificate, time.Time) (bool, string, error)) (*lanyard.Certificate, error) {
	serial, err := ParseSerial(serial)
	if err != nil {
		return nil, err
	}
	changed := false
	cert, err := ca.store.UpdateStatus(ctx, actor, serial, action, func(c *lanyard.Certificate, now time.Time) (bool, string, error) {
		ok, detail, err := change(c, now)
		changed = ok
		return ok, detail, err
	})
	if err != nil {
		return nil, err
	}
	if changed {
		ca.StatusChanged(ctx)
	}
	return cert, nil
}

// FindCertificateBySerial returns the certificate with the given serial,
// written in any form ParseSerial accepts.
func (ca *CA) FindCertificateBySerial(ctx context.Context, serial string) (*lanyard.Certificate, error) {
	serial, err := ParseSerial(serial)
	if err != nil {
		return nil, err
	}
	return ca.store.FindCertificate(ctx, serial)
}

// FindCertificatesByUser lists the user's certificates, newest first.
func (ca *CA) FindCertificatesByUser(ctx context.Context, userID int64) ([]*lanyard.Certificate, error) {
	certs, err := ca.store.FindCertificates(ctx, userID, false)
	if err != nil {
		return nil, fmt.Errorf("find certificates of user %d: %w", userID, err)
	}
	return certs, nil
}
