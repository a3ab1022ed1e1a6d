package mobileid

import (
	"context"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/options"
)

// SupplyProcess is the symbolic name of the operator's "Supply mobile ID
// for user".
const SupplyProcess = options.MobileIDProcSupplyMobileIDForUser

// SupplyIntro is what the operator sees before supplying: the options of
// the supply process for the user, the user's mobile ID, their archive.
func (s *Service) SupplyIntro(ctx context.Context, actor lanyard.Actor, userID int64) (*Intro, error) {
	u, err := s.Users.FindUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	return s.intro(ctx, actor, SupplyProcess, u)
}

// SupplyRequest is what the operator chose.
type SupplyRequest struct {
	// LockExisting confirms that the user's active mobile ID is locked.
	LockExisting bool
	// RecoverSerials are the archived encryption certificates to deliver
	// when the options ask for manual recovery.
	RecoverSerials []string
}

// Supply runs "Supply mobile ID for user" (MobileIDProcSupplyMobileIDForUser)
// for an operator: with the options of that process, a registered mobile
// ID waits for the user's app, and the QR code and link always go to the
// user by email (show_qr_code has no effect here). The operator's part is
// then finished. Locking the old mobile ID, registering the new one and
// queueing the mail happen in one transaction.
func (s *Service) Supply(ctx context.Context, actor lanyard.Actor, userID int64, req SupplyRequest) (*Activation, error) {
	in, err := s.SupplyIntro(ctx, actor, userID)
	if err != nil {
		s.notifyOptionsFailed(ctx, actor, err)
		return nil, err
	}
	if in.Existing != nil && !req.LockExisting {
		return nil, lanyard.Errorf(lanyard.ECONFLICT, "%s already has an active mobile ID. Lock it to get a new one.", in.User.CommonName)
	}
	e := &lanyard.Enrollment{Process: SupplyProcess, Step: lanyard.StepFinished, Usages: in.Usages, ByEmail: true}
	if in.Options.EncryptionRecovery == options.RecoveryManual {
		if e.RecoverSerials, err = s.archivedSerials(ctx, userID, req.RecoverSerials); err != nil {
			return nil, err
		}
	}
	ac, _, err := s.newCode(in.User, e, in.Options, nil)
	if err != nil {
		return nil, err
	}
	if err := s.openProcess(ctx, actor, in, e, req.LockExisting, ac); err != nil {
		return nil, err
	}
	return &Activation{Process: e, ExpiresAt: ac.ExpiresAt, MobileID: ac.MobileID}, nil
}
