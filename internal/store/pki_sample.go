package store

import (
	"context"
	"fmt"

	"github.com/lanyard-id/lanyard"
)

// NewestCertificates returns up to limit of the newest certificates in the
// given status, with serial, status and DER only: what a load run that
// asks OCSP about real certificates needs.
func (s *PKIStore) NewestCertificates(ctx context.Context, status lanyard.CertificateStatus, limit int) ([]*lanyard.Certificate, error) {
	certs, err := queryAll(ctx, s.db, `SELECT serial, status, der FROM certificates WHERE status = ? ORDER BY id DESC LIMIT ?`,
		[]any{string(status), limit}, func(sc scanner) (*lanyard.Certificate, error) {
			var c lanyard.Certificate
			return &c, sc.Scan(&c.Serial, &c.Status, &c.DER)
		})
	if err != nil {
		return nil, fmt.Errorf("find the newest certificates: %w", err)
	}
	return certs, nil
}
