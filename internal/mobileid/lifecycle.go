package mobileid

import (
	"context"
	"errors"
	"fmt"

	"github.com/lanyard-id/lanyard"
)

// Lock locks one of the user's mobile IDs (MobileIDSelfServiceProcLock).
// Another user's mobile ID is ENOTFOUND, as if it did not exist.
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

// Delete removes one of the user's mobile IDs from their lists. A mobile
// ID that is not locked yet is locked first, so no certificate of a
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
	if err := s.lock(ctx, actor, m, "locked to be deleted"); err != nil {
		return err
	}
	return s.Store.SetMobileIDState(ctx, actor, m, lanyard.MobileIDDeleted, "deleted")
}

// lock makes m locked and revokes its signature and authentication
// certificates. Encryption certificates are revoked too, but their keys
// stay archived for recovery. It is safe to repeat.
func (s *Service) lock(ctx context.Context, actor lanyard.Actor, m *lanyard.MobileID, why string) error {
	if m.State == lanyard.MobileIDDeleted {
		return nil
	}
	if m.State != lanyard.MobileIDLocked {
		if err := s.Store.SetMobileIDState(ctx, actor, m, lanyard.MobileIDLocked, why); err != nil {
			return err
		}
	}
	return s.eachOwnCertificate(m, func(serial string) error {
		_, err := s.Certs.RevokeCertificate(ctx, actor, serial, lanyard.ReasonCessationOfOperation)
		return err
	})
}

// SetUserState changes a user's state and carries it to the user's mobile
// IDs: deactivating puts them inactive with certificates on hold,
// reactivating releases them, locking locks them.
func (s *Service) SetUserState(ctx context.Context, actor lanyard.Actor, username string, state lanyard.UserState) (*lanyard.User, error) {
	u, err := s.Users.SetUserState(ctx, actor, username, state)
	if err != nil {
		return nil, err
	}
	ms, err := s.Store.FindMobileIDs(ctx, u.ID, 0)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, m := range ms {
		errs = append(errs, s.followUser(ctx, actor, m, state))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Service) followUser(ctx context.Context, actor lanyard.Actor, m *lanyard.MobileID, state lanyard.UserState) error {
	why := "the user is " + string(state)
	switch {
	case state == lanyard.UserLocked:
		return s.lock(ctx, actor, m, why)
	case state == lanyard.UserActive && m.State == lanyard.MobileIDInactive:
		if err := s.Store.SetMobileIDState(ctx, actor, m, lanyard.MobileIDActive, why); err != nil {
			return err
		}
		return s.eachOwnCertificate(m, func(serial string) error {
			_, err := s.Certs.ReleaseCertificate(ctx, actor, serial)
			return err
		})
	case state != lanyard.UserActive && m.State == lanyard.MobileIDActive:
		if err := s.Store.SetMobileIDState(ctx, actor, m, lanyard.MobileIDInactive, why); err != nil {
			return err
		}
		return s.eachOwnCertificate(m, func(serial string) error {
			_, err := s.Certs.HoldCertificate(ctx, actor, serial)
			return err
		})
	}
	return nil
}

// eachOwnCertificate runs fn for the certificates issued to m (not those
// recovered onto it, which belong to earlier mobile IDs).
func (s *Service) eachOwnCertificate(m *lanyard.MobileID, fn func(serial string) error) error {
	for _, c := range m.Certificates {
		if !c.Recovered {
			if err := fn(c.Serial); err != nil {
				return fmt.Errorf("certificate %s: %w", c.Serial, err)
			}
		}
	}
	return nil
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
