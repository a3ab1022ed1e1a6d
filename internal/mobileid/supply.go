package mobileid

import (
	"context"
	"fmt"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/options"
)

// SupplyProcess is the symbolic name of the operator's "Supply mobile ID
// for user".
const SupplyProcess = options.MobileIDProcSupplyMobileIDForUser

// SupplyIntro is what the operator sees before supplying: the options of
// the supply process for the user, the user's mobile ID, their archive.
func (s *Service) SupplyIntro(ctx context.Context, actor lanyard.Actor, userID int64) (*Intro, error) {
	return s.intro(ctx, actor, SupplyProcess, userID)
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
// then finished.
func (s *Service) Supply(ctx context.Context, actor lanyard.Actor, userID int64, req SupplyRequest) (*Activation, error) {
	in, err := s.intro(ctx, actor, SupplyProcess, userID)
	if err != nil {
		s.notifyOptionsFailed(ctx, actor, err)
		return nil, err
	}
	e := &lanyard.Enrollment{Process: SupplyProcess, Step: lanyard.StepActivation, Usages: in.Usages, ByEmail: true}
	if in.Options.EncryptionRecovery == options.RecoveryManual {
		if e.RecoverSerials, err = s.archivedSerials(ctx, userID, req.RecoverSerials); err != nil {
			return nil, err
		}
	}
	if err := s.openProcess(ctx, actor, in, e, req.LockExisting); err != nil {
		return nil, err
	}
	a, err := s.Activate(ctx, actor, userID, e.PublicID)
	if err != nil {
		return nil, err
	}
	e.Step = lanyard.StepFinished
	detail := fmt.Sprintf("supplied to %s; the QR code went to %s", in.User.Username, in.User.Email)
	if err := s.Store.UpdateEnrollment(ctx, actor, e, "mobileid.supply", detail); err != nil {
		return nil, err
	}
	return a, nil
}
