package mobileid

import (
	"context"

	"github.com/lanyard-id/lanyard"
)

// Lock locks one of the user's mobile IDs (MobileIDSelfServiceProcLock)
// and revokes its certificates, in one transaction. Another user's mobile
// ID is ENOTFOUND, as if it did not exist.
func (s *Service) Lock(ctx context.Context, actor lanyard.Actor, userID int64, publicID string) error {
	m, err := s.Store.FindMobileIDByPublicID(ctx, publicID)
	if err != nil {
		return err
	}
	if m.UserID != userID {
		return lanyard.Errorf(lanyard.ENOTFOUND, "There is no such mobile ID.")
	}
	return s.lock(ctx, actor, m, "locked by the user")
}

// Delete removes one of the user's mobile IDs from their lists. Its
// certificates are revoked in the same transaction, so no certificate of a
// deleted mobile ID stays valid; the record stays for the audit trail, and
// encryption keys stay archived.
func (s *Service) Delete(ctx context.Context, actor lanyard.Actor, userID int64, publicID string) error {
	m, err := s.Store.FindMobileIDByPublicID(ctx, publicID)
	if err != nil {
		return err
	}
	if m.UserID != userID || m.State == lanyard.MobileIDDeleted {
		return lanyard.Errorf(lanyard.ENOTFOUND, "There is no such mobile ID.")
	}
	return s.setState(ctx, actor, m, lanyard.MobileIDDeleted, "deleted")
}

// lock makes m locked and revokes the certificates issued to it, in one
// transaction. Encryption certificates are revoked too, but their keys
// stay archived for recovery. It is safe to repeat.
func (s *Service) lock(ctx context.Context, actor lanyard.Actor, m *lanyard.MobileID, why string) error {
	if m.State == lanyard.MobileIDDeleted || m.State == lanyard.MobileIDLocked {
		return nil
	}
	return s.setState(ctx, actor, m, lanyard.MobileIDLocked, why)
}

// setState changes m's state with its certificates and publishes the CRL
// that the change owes.
func (s *Service) setState(ctx context.Context, actor lanyard.Actor, m *lanyard.MobileID, state lanyard.MobileIDState, why string) error {
	if err := s.Store.SetMobileIDState(ctx, actor, m, state, why); err != nil {
		return err
	}
	s.CA.StatusChanged(ctx)
	return nil
}

// SetUserState changes a user's state and, in the same transaction,
// carries it to the user's mobile IDs: deactivating puts them inactive with
// certificates on hold, reactivating releases them, locking locks them.
func (s *Service) SetUserState(ctx context.Context, actor lanyard.Actor, username string, state lanyard.UserState) (*lanyard.User, error) {
	u, err := s.Users.SetUserState(ctx, actor, username, state)
	if err != nil {
		return nil, err
	}
	s.CA.StatusChanged(ctx)
	return u, nil
}

// View is a mobile ID with its certificates as the CA knows them.
type View struct {
	MobileID     *lanyard.MobileID
	Certificates []CertificateView
}

// CertificateView is one certificate of a mobile ID.
type CertificateView struct {
	*lanyard.Certificate
	Recovered bool
}

// LockedShown is how many locked mobile IDs the pages show as history.
const LockedShown = 5

// Current returns the user's live mobile IDs and the newest locked ones,
// newest first, with their certificates.
func (s *Service) Current(ctx context.Context, userID int64) ([]View, error) {
	ms, err := s.Store.FindMobileIDs(ctx, userID, LockedShown)
	if err != nil {
		return nil, err
	}
	views := make([]View, 0, len(ms))
	for _, m := range ms {
		v := View{MobileID: m}
		for _, mc := range m.Certificates {
			c, err := s.Certs.FindCertificateBySerial(ctx, mc.Serial)
			if err != nil {
				return nil, err
			}
			v.Certificates = append(v.Certificates, CertificateView{Certificate: c, Recovered: mc.Recovered})
		}
		views = append(views, v)
	}
	return views, nil
}
