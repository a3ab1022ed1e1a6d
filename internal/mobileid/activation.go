package mobileid

import (
	"context"
	"fmt"
	"time"

	"github.com/lanyard-id/lanyard"
)

// Activation is what the activation step shows.
type Activation struct {
	Process *lanyard.Enrollment
	// Link is the enrollment link; empty when the code went by email.
	Link      string
	ExpiresAt time.Time
	// MobileID is the mobile ID being created, registered or (once the app
	// enrolled) active.
	MobileID *lanyard.MobileID
}

// Activate shows the activation step. For a code on screen every call
// issues a fresh code and voids the one before, since only hashes are
// kept: a refreshed page shows a new QR code and the old one stops
// working. A code by email is issued and queued once.
func (s *Service) Activate(ctx context.Context, actor lanyard.Actor, u *lanyard.User, publicID string) (*Activation, error) {
	e, err := s.Process(ctx, u, publicID)
	if err != nil {
		return nil, err
	}
	return s.ActivateProcess(ctx, actor, e, u)
}

// ActivateProcess is Activate for the process e of u that Process just
// returned, which it does not read again.
func (s *Service) ActivateProcess(ctx context.Context, actor lanyard.Actor, e *lanyard.Enrollment, u *lanyard.User) (*Activation, error) {
	var err error
	if e.Step != lanyard.StepActivation {
		return nil, lanyard.Errorf(lanyard.ECONFLICT, "The process is not at its activation step.")
	}
	a := &Activation{Process: e}
	// Right after the start, the code issued with the process, if it is
	// still the process's: a page of another instance may have issued one
	// since, which changed the expiry.
	if h, ok := s.handoffs.take(e.PublicID, u.ID, s.now()); ok && e.MobileID == h.mobile.ID &&
		e.CodeExpiresAt.Equal(h.expires.Truncate(time.Microsecond)) {
		a.MobileID, a.ExpiresAt, a.Link = h.mobile, h.expires, h.link
		return a, nil
	}
	if e.MobileID != 0 {
		if a.MobileID, err = s.Store.FindMobileID(ctx, e.MobileID); err != nil {
			return nil, err
		}
		if a.MobileID.State != lanyard.MobileIDRegistered || e.ByEmail {
			a.ExpiresAt = e.CodeExpiresAt
			return a, nil // enrolled already, or the mail is on its way
		}
	}
	o, err := decodeOptions(e)
	if err != nil {
		return nil, fmt.Errorf("decode process options: %w", err)
	}
	code, link, err := s.newCode(u, e, o, a.MobileID)
	if err != nil {
		return nil, err
	}
	if err := s.Store.SetActivationCode(ctx, actor, e, code); err != nil {
		return nil, err
	}
	a.MobileID, a.ExpiresAt = code.MobileID, code.ExpiresAt
	if !e.ByEmail {
		a.Link = link
	}
	return a, nil
}

// Finish is the last Next: the process ends, and the mobile ID stays
// registered until the app enrols, or is active already. It returns the
// mobile ID's state.
func (s *Service) Finish(ctx context.Context, actor lanyard.Actor, u *lanyard.User, publicID string) (lanyard.MobileIDState, error) {
	if err := requireEligible(u); err != nil {
		return "", err
	}
	return s.Store.FinishEnrollment(ctx, actor, u.ID, publicID)
}

// Cancel closes the process at any step: the code is void, nothing is
// issued, and a mobile ID the app may have enrolled meanwhile is locked,
// all in one transaction.
func (s *Service) Cancel(ctx context.Context, actor lanyard.Actor, userID int64, publicID string) error {
	e, err := s.Store.FindEnrollment(ctx, userID, publicID)
	if err != nil {
		return err
	}
	switch e.Step {
	case lanyard.StepCancelled, lanyard.StepFailed:
		return nil
	case lanyard.StepFinished:
		return lanyard.Errorf(lanyard.ECONFLICT, "The process has finished; lock the mobile ID instead.")
	}
	e.Step = lanyard.StepCancelled
	if err := s.Store.UpdateEnrollment(ctx, actor, e, "mobileid.process_cancel", "cancelled by the user"); err != nil {
		return err
	}
	if e.MobileID != 0 {
		s.CA.StatusChanged(ctx)
	}
	return nil
}
