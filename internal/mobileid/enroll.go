package mobileid

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/options"
	"github.com/lanyard-id/lanyard/internal/pki"
)

// EnrollRequest is what the app sends with the activation code.
type EnrollRequest struct {
	Code         string
	DeviceName   string
	TransportKey []byte // X25519 public key, 32 bytes
	CSRs         map[lanyard.CertificateUsage][]byte
}

// Validate checks the request's form before the code is looked at.
func (r *EnrollRequest) Validate() error {
	switch {
	case r.Code == "" || len(r.Code) > 128 || !lanyard.ValidText(r.Code):
		return lanyard.Errorf(lanyard.EINVALID, "The activation code is missing or malformed.")
	case strings.TrimSpace(r.DeviceName) == "" || utf8.RuneCountInString(r.DeviceName) > appclient.MaxDeviceName || !lanyard.ValidText(r.DeviceName):
		return lanyard.Errorf(lanyard.EINVALID, "The device name must be 1 to %d characters of text.", appclient.MaxDeviceName)
	}
	if _, err := ecdh.X25519().NewPublicKey(r.TransportKey); err != nil {
		return lanyard.Errorf(lanyard.EINVALID, "The transport key must be a 32-byte X25519 public key.")
	}
	for u := range r.CSRs {
		if u != lanyard.UsageSignature && u != lanyard.UsageAuthentication {
			return lanyard.Errorf(lanyard.EINVALID, "Certificate requests are taken for signature and authentication only, not %q.", truncate(string(u), 32))
		}
	}
	return nil
}

// DeliveredKey is an encryption certificate with its private key sealed
// to the device's transport key.
type DeliveredKey struct {
	Certificate *lanyard.Certificate
	Recovered   bool
	SealedKey   []byte
}

// EnrollResult is what the app receives.
type EnrollResult struct {
	MobileID       *lanyard.MobileID
	Certificates   []*lanyard.Certificate
	EncryptionKeys []DeliveredKey
	Chain          []*x509.Certificate
}

// Enroll activates a registered mobile ID with the app's keys: it checks
// the requests against the code's user (a refused request leaves the code
// good, so an app can retry with proper ones), signs the certificates, and
// then in one transaction consumes the code (one winner among racing
// apps), checks the user is still active, records the certificates and
// makes the mobile ID active. A failure of that transaction leaves nothing
// behind: the signed certificates were never delivered and stay unknown to
// OCSP. A refusal there (the user no longer active, the mobile ID no longer
// waiting) fails the process and tells the user; an internal failure
// leaves the code good for the app to retry. An app that enrolled and lost
// the answer gets the same answer again for the same code and keys.
func (s *Service) Enroll(ctx context.Context, req EnrollRequest) (*EnrollResult, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	codeHash := HashCode(req.Code)
	p, err := s.Store.PeekCode(ctx, codeHash)
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		return s.enrolledAlready(ctx, codeHash, req, err)
	} else if err != nil {
		return nil, err
	}
	csrs, err := checkRequests(p.Enrollment, p.User, req)
	if err != nil {
		return nil, err
	}
	actor := lanyard.Actor{Username: "app", Addr: "device " + req.DeviceName}
	res, err := s.enroll(ctx, &actor, p, codeHash, req, csrs)
	if err != nil {
		s.enrollFailed(ctx, actor, p.Enrollment, codeHash, err)
		return nil, err
	}
	return res, nil
}

// enroll signs and records the certificates of the checked requests for
// the code's user, read once with the code: the store checks the user's
// state again in the transaction that records them.
func (s *Service) enroll(ctx context.Context, actor *lanyard.Actor, p *lanyard.PeekedCode, codeHash []byte, req EnrollRequest, csrs map[lanyard.CertificateUsage]*pki.CheckedRequest) (*EnrollResult, error) {
	e, u, m := p.Enrollment, p.User, p.MobileID
	if err := requireEligible(u); err != nil {
		return nil, err
	}
	actor.Username = "app:" + u.Username
	o, err := decodeOptions(e)
	if err != nil {
		return nil, fmt.Errorf("decode process options: %w", err)
	}
	if m.State != lanyard.MobileIDRegistered {
		return nil, lanyard.Errorf(lanyard.ECONFLICT, "The mobile ID is no longer waiting for the app.")
	}
	res := &EnrollResult{MobileID: m, Chain: []*x509.Certificate{s.CA.Issuer(), s.CA.Root()}}
	transport, _ := ecdh.X25519().NewPublicKey(req.TransportKey)
	var signed []lanyard.SignedCertificate
	for _, usage := range e.Usages {
		if usage == lanyard.UsageEncryption {
			sc, key, err := s.CA.SignEncryptionCertificate(u, 0, o.ValidityYears)
			if err != nil {
				return nil, err
			}
			dk, err := sealFor(transport, sc.Certificate, key, false)
			if err != nil {
				return nil, err
			}
			signed = append(signed, sc)
			res.EncryptionKeys = append(res.EncryptionKeys, dk)
			continue
		}
		cert, err := s.CA.SignCheckedRequest(u, usage, csrs[usage], o.ValidityYears)
		if err != nil {
			return nil, err
		}
		signed = append(signed, lanyard.SignedCertificate{Certificate: cert})
	}
	m.DeviceName, m.TransportKey = strings.TrimSpace(req.DeviceName), req.TransportKey
	m.RecoveryPending = recoveryWanted(e, o, p.HasArchive)
	if _, err := s.Store.EnrollMobileID(ctx, *actor, codeHash, m, signed, mailsIf(o.NotifyUser, createdMail(u, m))...); err != nil {
		return nil, err
	}
	for _, sc := range signed {
		res.Certificates = append(res.Certificates, sc.Certificate)
	}
	return res, nil
}

// recoveryWanted reports whether archived keys are to be delivered: those
// chosen in the manual form, or with automatic recovery any the user has
// (hasArchive; the new mobile ID's own are not recorded yet), so that the
// recovery job is queued only when there is something to recover.
func recoveryWanted(e *lanyard.Enrollment, o options.MobileID, hasArchive bool) bool {
	if o.EncryptionRecovery == options.RecoveryManual {
		return len(e.RecoverSerials) > 0
	}
	return o.RecoverLatest > 0 && hasArchive
}

// enrollFailed decides what a failed enrollment leaves: nothing when the
// code is gone (another app won, it expired) or the failure was internal
// (the app may retry with the same code); otherwise the process fails.
func (s *Service) enrollFailed(ctx context.Context, actor lanyard.Actor, e *lanyard.Enrollment, codeHash []byte, cause error) {
	ctx = context.WithoutCancel(ctx)
	if lanyard.ErrorCode(cause) == lanyard.EINTERNAL {
		s.Logger.Error("enrollment failed; the code stays valid for a retry", "process", e.PublicID, "err", cause)
		return
	}
	if _, err := s.Store.PeekActivationCode(ctx, codeHash); err != nil {
		return
	}
	s.failEnrollment(ctx, actor, e, cause)
}

// failEnrollment ends a process whose enrollment was refused: the process
// fails, its code is void, its registered mobile ID is deleted and the
// user is told why, in one transaction.
func (s *Service) failEnrollment(ctx context.Context, actor lanyard.Actor, e *lanyard.Enrollment, cause error) {
	notify := true
	if o, err := decodeOptions(e); err == nil {
		notify = o.NotifyUser
	}
	var mails []lanyard.Mail
	if u, err := s.Users.FindUserByID(ctx, e.UserID); err == nil {
		mails = mailsIf(notify, failedMail(u, lanyard.ErrorMessage(cause)))
	}
	e.Step = lanyard.StepFailed
	if err := s.Store.UpdateEnrollment(ctx, actor, e, "mobileid.process_fail", lanyard.ErrorMessage(cause), mails...); err != nil {
		s.Logger.Error("record failed enrollment", "process", e.PublicID, "err", err)
	}
}

// sealFor seals an encryption key to the device's transport key.
func sealFor(transport *ecdh.PublicKey, cert *lanyard.Certificate, key any, recovered bool) (DeliveredKey, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return DeliveredKey{}, fmt.Errorf("encode key %s: %w", cert.Serial, err)
	}
	sealed, err := appclient.SealKey(transport, cert.Serial, der)
	if err != nil {
		return DeliveredKey{}, fmt.Errorf("seal key %s: %w", cert.Serial, err)
	}
	return DeliveredKey{Certificate: cert, Recovered: recovered, SealedKey: sealed}, nil
}

// checkRequests checks the app's certificate requests against the code's
// user u and process before the code is used: proof of possession, key
// policy, the user's email and no key used twice. It returns the checked
// requests, which are signed without parsing them again.
func checkRequests(e *lanyard.Enrollment, u *lanyard.User, req EnrollRequest) (map[lanyard.CertificateUsage]*pki.CheckedRequest, error) {
	csrs := map[lanyard.CertificateUsage]*pki.CheckedRequest{}
	for _, usage := range []lanyard.CertificateUsage{lanyard.UsageSignature, lanyard.UsageAuthentication} {
		if !slices.Contains(e.Usages, usage) {
			continue
		}
		csr, ok := req.CSRs[usage]
		if !ok {
			return nil, lanyard.Errorf(lanyard.EINVALID, "The %s certificate request is missing.", usage)
		}
		checked, err := pki.CheckCSR(csr, u)
		if err != nil {
			return nil, err
		}
		csrs[usage] = checked
	}
	// One key for two usages is refused, even in a request the process
	// does not sign: a signature key must not also authenticate.
	sig, okS := publicKeyInfo(csrs, req.CSRs, lanyard.UsageSignature)
	auth, okA := publicKeyInfo(csrs, req.CSRs, lanyard.UsageAuthentication)
	if okS && okA && bytes.Equal(sig, auth) {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The signature and authentication requests use the same key; each needs its own.")
	}
	return csrs, nil
}

// publicKeyInfo is the key of the request for usage: of the checked one,
// or of one the process does not sign, parsed for the comparison alone.
func publicKeyInfo(checked map[lanyard.CertificateUsage]*pki.CheckedRequest, raw map[lanyard.CertificateUsage][]byte, usage lanyard.CertificateUsage) ([]byte, bool) {
	if c := checked[usage]; c != nil {
		return c.PublicKeyInfo(), true
	}
	der, ok := raw[usage]
	if !ok {
		return nil, false
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, false // refused where it is signed, or not used
	}
	return csr.RawSubjectPublicKeyInfo, true
}
