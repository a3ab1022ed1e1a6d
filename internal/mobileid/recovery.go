package mobileid

import (
	"context"
	"crypto/ecdh"
	"fmt"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/options"
)

// recoveryPage is how many pending recoveries are read at a time.
const recoveryPage = 50

// RunRecoveries delivers archived encryption keys to mobile IDs that wait
// for them, in the background after enrollment: the latest recover_latest
// archived certificates of the user (expired ones included, the one just
// issued excluded) with automatic recovery, or those chosen in the form
// with manual recovery. It serves every one waiting, a page at a time, so
// that it keeps up with enrollment however many there are; one that fails
// is logged and skipped, so that it holds up no other. It returns how many
// mobile IDs it served.
func (s *Service) RunRecoveries(ctx context.Context) (int, error) {
	n, after := 0, int64(0)
	for ctx.Err() == nil {
		ms, err := s.Store.PendingRecoveries(ctx, after, recoveryPage)
		if err != nil {
			return n, err
		}
		for _, m := range ms {
			after = m.ID
			if err := s.recover(ctx, m); err != nil {
				s.Logger.Error("recover keys", "mobile_id", m.PublicID, "err", err)
				continue
			}
			n++
		}
		if len(ms) < recoveryPage {
			break
		}
	}
	return n, nil
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

// interruptedAfter is how long the periodic repair leaves an enrollment
// between the use of its code and the activation of its mobile ID, or a
// certificate that no mobile ID holds, before it counts as left half done.
// Enrollment records its certificates and the activation in one
// transaction, so only an older version or a certificate issued on its own
// (not for a mobile ID) leaves such a state; the grace spares the latter
// while it is being handed over.
const interruptedAfter = time.Minute

// CleanUpInterrupted is the periodic repair: Repair with a grace of
// interruptedAfter.
func (s *Service) CleanUpInterrupted(ctx context.Context) (int, error) {
	return s.Repair(ctx, interruptedAfter)
}

// Repair finishes or undoes what a stopped server left half done, so that
// every mobile ID is either whole or not created and OCSP agrees with it:
// enrollments whose code was used but whose mobile ID never became active
// fail, mobile IDs of users who are not active follow their user,
// certificates whose status does not match their mobile ID's state
// are held or revoked to match, certificates that no mobile ID holds are
// revoked, and the CRL that is owed is published. The server runs it at
// start, before the first request, with no grace, and then periodically.
// It returns how many enrollments and certificates it repaired.
func (s *Service) Repair(ctx context.Context, grace time.Duration) (int, error) {
	n, err := s.Store.FailInterrupted(ctx, grace)
	if err != nil {
		return 0, err
	}
	behind, err := s.Store.RepairUserMobileIDs(ctx)
	n += behind
	if err != nil {
		return n, err
	}
	certs, err := s.Store.RepairCertificates(ctx, grace)
	n += certs
	if err != nil {
		return n, err
	}
	s.CA.StatusChanged(ctx)
	return n, nil
}
