package mobileid

import (
	"context"
	"crypto/ecdh"
	"fmt"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/options"
)

// RunRecoveries delivers archived encryption keys to mobile IDs that wait
// for them, in the background after enrollment: the latest recover_latest
// archived certificates of the user (expired ones included, the one just
// issued excluded) with automatic recovery, or those chosen in the form
// with manual recovery. It returns how many mobile IDs it served.
func (s *Service) RunRecoveries(ctx context.Context) (int, error) {
	ms, err := s.Store.PendingRecoveries(ctx, 50)
	if err != nil {
		return 0, err
	}
	for _, m := range ms {
		if err := s.recover(ctx, m); err != nil {
			return 0, fmt.Errorf("recover keys for %s: %w", m.PublicID, err)
		}
	}
	return len(ms), nil
}

func (s *Service) recover(ctx context.Context, m *lanyard.MobileID) error {
	e, err := s.Store.FindEnrollmentByMobileID(ctx, m.ID)
	if err != nil {
		return err
	}
	o, err := decodeOptions(e)
	if err != nil {
		return fmt.Errorf("decode process options: %w", err)
	}
	archived, err := s.Certs.FindArchivedCertificates(ctx, m.UserID)
	if err != nil {
		return err
	}
	own := map[string]bool{}
	for _, c := range m.Certificates {
		own[c.Serial] = true
	}
	var serials []string
	switch o.EncryptionRecovery {
	case options.RecoveryManual:
		for _, c := range archived {
			for _, want := range e.RecoverSerials {
				if c.Serial == want && !own[c.Serial] {
					serials = append(serials, c.Serial)
				}
			}
		}
	default:
		for _, c := range archived { // newest first
			if len(serials) == o.RecoverLatest {
				break
			}
			if !own[c.Serial] {
				serials = append(serials, c.Serial)
			}
		}
	}
	return s.Store.AddRecoveredCertificates(ctx, lanyard.SystemActor, m, serials)
}

// deliveredKeys seals every encryption key of m to its transport key:
// its own and the recovered ones. Keys are recovered from the archive on
// each call and never stored unsealed.
func (s *Service) deliveredKeys(ctx context.Context, actor lanyard.Actor, m *lanyard.MobileID) ([]DeliveredKey, error) {
	transport, err := ecdh.X25519().NewPublicKey(m.TransportKey)
	if err != nil {
		return nil, fmt.Errorf("transport key of %s: %w", m.PublicID, err)
	}
	var keys []DeliveredKey
	for _, mc := range m.Certificates {
		if mc.Usage != lanyard.UsageEncryption {
			continue
		}
		cert, err := s.Certs.FindCertificateBySerial(ctx, mc.Serial)
		if err != nil {
			return nil, err
		}
		key, err := s.Certs.RecoverKey(ctx, actor, m.UserID, mc.Serial)
		if err != nil {
			return nil, err
		}
		dk, err := sealFor(transport, cert, key, mc.Recovered)
		if err != nil {
			return nil, err
		}
		keys = append(keys, dk)
	}
	return keys, nil
}

// interruptedAfter is how long an enrollment may sit between the use of
// its code and the activation of its mobile ID before it counts as
// interrupted; a real enrollment takes well under a second.
const interruptedAfter = 10 * time.Minute

// CleanUpInterrupted finishes what a stopped server left half done, so that
// every mobile ID is either whole or not created: enrollments whose code was
// used but whose mobile ID never became active fail, and certificates that
// no mobile ID holds are revoked.
func (s *Service) CleanUpInterrupted(ctx context.Context) (int, error) {
	n, err := s.Store.FailInterrupted(ctx, interruptedAfter)
	if err != nil {
		return 0, err
	}
	serials, err := s.Store.OrphanedCertificates(ctx, interruptedAfter)
	if err != nil {
		return n, err
	}
	for _, serial := range serials {
		if _, err := s.Certs.RevokeCertificate(ctx, lanyard.SystemActor, serial, lanyard.ReasonCessationOfOperation); err != nil {
			return n, fmt.Errorf("revoke orphaned certificate %s: %w", serial, err)
		}
	}
	return n + len(serials), nil
}
