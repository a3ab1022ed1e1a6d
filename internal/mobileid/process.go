package mobileid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/options"
)

// GetProcess is the symbolic name of "Get mobile ID" in Self-Service.
const GetProcess = options.MobileIDSelfServiceProcGet

// Intro is what the first step shows: what will happen.
type Intro struct {
	User    *lanyard.User
	Options options.MobileID
	// ScriptVersion is the version of the option script Options came from.
	ScriptVersion int
	// Usages are the certificates the options issue (or offer, when the
	// user may choose).
	Usages []lanyard.CertificateUsage
	// Existing is the user's active mobile ID, if any: it must be locked
	// before a new one is issued.
	Existing *lanyard.MobileID
	// Archived are the user's archived encryption certificates, read when
	// the options issue an encryption certificate or recover by hand.
	Archived []*lanyard.Certificate
}

// Intro evaluates the options for the user and gathers what step one says.
//
// Here and in the other steps of the process, u is the user as read for
// the request (the page's session lookup reads it with the session): the
// step checks its state and does not read it again.
func (s *Service) Intro(ctx context.Context, actor lanyard.Actor, u *lanyard.User) (*Intro, error) {
	return s.intro(ctx, actor, GetProcess, u)
}

// intro gathers what a process starts from: the active user, the options
// of the process for them, their mobile ID and their archived keys.
func (s *Service) intro(ctx context.Context, actor lanyard.Actor, process string, u *lanyard.User) (*Intro, error) {
	in, err := s.introOptions(ctx, process, u)
	if err != nil {
		return nil, err
	}
	ms, err := s.Store.FindMobileIDs(ctx, u.ID, 0)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.State == lanyard.MobileIDActive || m.State == lanyard.MobileIDInactive {
			in.Existing = m
			break
		}
	}
	return in, nil
}

// introOptions is intro without the user's mobile ID, for the start of
// the process, whose transaction finds it (and refuses to replace an
// active one unless told to lock it).
func (s *Service) introOptions(ctx context.Context, process string, u *lanyard.User) (*Intro, error) {
	if err := requireEligible(u); err != nil {
		return nil, err
	}
	o, version, err := s.processOptions(ctx, process, u)
	if err != nil {
		return nil, err
	}
	in := &Intro{User: u, Options: o, ScriptVersion: version, Usages: optionUsages(o)}
	// The archive matters here only where it is shown or chosen from.
	if o.IssueEncryption || o.EncryptionRecovery == options.RecoveryManual {
		if in.Archived, err = s.Certs.FindArchivedCertificates(ctx, u.ID); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// optionUsages lists the certificate kinds the options issue.
func optionUsages(o options.MobileID) []lanyard.CertificateUsage {
	var us []lanyard.CertificateUsage
	if o.IssueSignature {
		us = append(us, lanyard.UsageSignature)
	}
	if o.IssueAuthentication {
		us = append(us, lanyard.UsageAuthentication)
	}
	if o.IssueEncryption {
		us = append(us, lanyard.UsageEncryption)
	}
	return us
}

// StartRequest is what the user chose on the first step.
type StartRequest struct {
	// Usages are the certificates chosen, when the options let the user
	// choose; otherwise they are ignored.
	Usages []lanyard.CertificateUsage
	// LockExisting confirms that the active mobile ID is to be locked.
	LockExisting bool
}

// Start leaves the first step: it locks the old mobile ID when asked,
// fixes the options and the certificates, and opens the process at the
// manual recovery form or at activation.
//
// The options come from the current script as this instance keeps it
// (the store serves it from memory, and drops it at every change it
// hears of), and the process opens only while that is still the newest
// version. When it is not, what is kept has been dropped, and the start
// is tried again with the options of the script as it is now. Any other
// refusal would only come again: the script kept is the current one as
// far as this instance has heard.
func (s *Service) Start(ctx context.Context, actor lanyard.Actor, u *lanyard.User, req StartRequest) (*lanyard.Enrollment, error) {
	e, err := s.start(ctx, actor, u, req)
	if errors.Is(err, lanyard.ErrOptionsChanged) {
		e, err = s.start(ctx, actor, u, req)
	}
	if err != nil {
		s.notifyOptionsFailed(ctx, actor, err)
		return nil, err
	}
	return e, nil
}

// start is one attempt of Start.
func (s *Service) start(ctx context.Context, actor lanyard.Actor, u *lanyard.User, req StartRequest) (*lanyard.Enrollment, error) {
	in, err := s.introOptions(ctx, GetProcess, u)
	if err != nil {
		return nil, err
	}
	usages := in.Usages
	if in.Options.UserMayChoose {
		usages = nil
		for _, u := range req.Usages {
			if slices.Contains(in.Usages, u) && !slices.Contains(usages, u) {
				usages = append(usages, u)
			}
		}
		if len(usages) == 0 {
			return nil, lanyard.Errorf(lanyard.EINVALID, "Choose at least one certificate.")
		}
	}
	e := &lanyard.Enrollment{Process: GetProcess, Step: lanyard.StepActivation, Usages: usages, ByEmail: !in.Options.ShowQRCode,
		OptionsVersion: in.ScriptVersion}
	if in.Options.EncryptionRecovery == options.RecoveryManual && len(in.Archived) > 0 {
		e.Step = lanyard.StepRecovery
	}
	// At the activation step, the code is issued with the process, and the
	// link handed to the page the browser goes to next.
	var code *lanyard.ActivationCode
	var link string
	if e.Step == lanyard.StepActivation {
		if code, link, err = s.newCode(u, e, in.Options, nil); err != nil {
			return nil, err
		}
	}
	if err := s.openProcess(ctx, actor, in, e, req.LockExisting, code); err != nil {
		return nil, err
	}
	if code != nil && !e.ByEmail {
		s.handoffs.put(e.PublicID, handoff{userID: u.ID, link: link, expires: code.ExpiresAt, until: s.now().Add(handoffTTL), mobile: code.MobileID})
	}
	return e, nil
}

// openProcess creates the enrollment e for the user of in, in one
// transaction: it locks the user's active mobile ID first (only when
// lockExisting confirms it), and replaces the user's open processes and
// mobile IDs waiting for the app, so that a process started again (Back, a
// second tab, an operator's supply) never leaves two mobile IDs waiting for
// the app. With code, the process's activation code is issued in the same
// transaction.
//
// The transaction refuses to replace an active mobile ID unless
// lockExisting confirms it.
func (s *Service) openProcess(ctx context.Context, actor lanyard.Actor, in *Intro, e *lanyard.Enrollment, lockExisting bool, code *lanyard.ActivationCode) error {
	opts, err := json.Marshal(in.Options)
	if err != nil {
		return fmt.Errorf("encode options: %w", err)
	}
	e.PublicID, e.UserID, e.Options = newPublicID(), in.User.ID, opts
	if err := s.Store.OpenEnrollment(ctx, actor, e, lockExisting, code); err != nil {
		return err
	}
	if lockExisting {
		s.CA.StatusChanged(ctx) // certificates may have been revoked
	}
	return nil
}

// Process returns a user's process, checking that the user is still active.
func (s *Service) Process(ctx context.Context, u *lanyard.User, publicID string) (*lanyard.Enrollment, error) {
	if err := requireEligible(u); err != nil {
		return nil, err
	}
	return s.Store.FindEnrollment(ctx, u.ID, publicID)
}

// ChooseRecovery leaves the manual recovery form with the chosen archived
// encryption certificates; serials not in the user's archive are refused.
func (s *Service) ChooseRecovery(ctx context.Context, actor lanyard.Actor, u *lanyard.User, publicID string, serials []string) (*lanyard.Enrollment, error) {
	e, err := s.Process(ctx, u, publicID)
	if err != nil {
		return nil, err
	}
	if e.Step != lanyard.StepRecovery {
		return e, nil // a repeated or late submit changes nothing
	}
	chosen, err := s.archivedSerials(ctx, u.ID, serials)
	if err != nil {
		return nil, err
	}
	e.RecoverSerials, e.Step = chosen, lanyard.StepActivation
	if err := s.Store.UpdateEnrollment(ctx, actor, e, "mobileid.process_recovery", fmt.Sprintf("%d certificates chosen for recovery", len(chosen))); err != nil {
		return nil, err
	}
	return e, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// archivedSerials checks that every serial is one of the user's archived
// encryption certificates and returns them without repeats.
func (s *Service) archivedSerials(ctx context.Context, userID int64, serials []string) ([]string, error) {
	archived, err := s.Certs.FindArchivedCertificates(ctx, userID)
	if err != nil {
		return nil, err
	}
	var chosen []string
	for _, serial := range serials {
		ok := slices.ContainsFunc(archived, func(c *lanyard.Certificate) bool { return c.Serial == serial })
		if !ok {
			return nil, lanyard.Errorf(lanyard.EINVALID, "The certificate %q is not one of the archived encryption certificates.", truncate(serial, 64))
		}
		if !slices.Contains(chosen, serial) {
			chosen = append(chosen, serial)
		}
	}
	return chosen, nil
}
