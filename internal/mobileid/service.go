// Package mobileid runs the processes around mobile IDs: "Get mobile ID"
// in Self-Service (MobileIDSelfServiceProcGet) step by step, the app's
// enrollment with an activation code, key recovery onto the new device,
// device authentication, and the lifecycle that follows the user's state.
// It composes the option scripts, the CA and the store; the web pages and
// the app API call it and nothing below it.
package mobileid

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/options"
	"github.com/lanyard-id/lanyard/internal/pki"
)

// CA is what the service needs of the CA: its chain, signing without
// recording (the store records a mobile ID's certificates in the
// transaction that activates it), and the news that statuses changed, so
// that it publishes the CRL owed.
type CA interface {
	Issuer() *x509.Certificate
	Root() *x509.Certificate
	SignCheckedRequest(user *lanyard.User, usage lanyard.CertificateUsage, csr *pki.CheckedRequest, validityYears int) (*lanyard.Certificate, error)
	SignEncryptionCertificate(user *lanyard.User, rsaBits, validityYears int) (lanyard.SignedCertificate, *rsa.PrivateKey, error)
	StatusChanged(ctx context.Context)
}

// Service runs the mobile ID processes. Fields are set once at start.
type Service struct {
	Store   lanyard.MobileIDStore
	Users   lanyard.UserService
	Certs   lanyard.CertificateService
	CA      CA
	Options *options.Service
	Mail    lanyard.MailQueue
	Logger  *slog.Logger
	// Logins keeps the requests to log in with the mobile ID.
	Logins lanyard.LoginRequestStore

	// BaseURL is the public URL the enrollment link points at.
	BaseURL string
	// ScreenCodeTTL and EmailCodeTTL are how long an activation code shown
	// on screen or sent by email stays valid.
	ScreenCodeTTL time.Duration
	EmailCodeTTL  time.Duration
	// Now returns the current time; tests replace it.
	Now func() time.Time

	handoffs handoffs
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// newSecret returns an opaque random value (130 bits, base32): the
// activation codes, login tokens and challenges, which must be guessed by
// no one and say nothing, not even when they were made.
func newSecret() string { return rand.Text() }

// newPublicID returns the identifier of a process or a mobile ID: 26
// base32 characters, as newSecret's, of which the first 10 encode the
// millisecond it was made in, with an alphabet whose order is that of its
// bytes, and the other 16 are random (80 bits). Identifiers made one after
// the other sort one after the other, so the index entries of a new
// process or mobile ID (and of its audit events) land beside the last
// ones, on a page the writes before touched, instead of on a random page
// of the index. They are no capability: every use checks whose they are.
func newPublicID() string {
	const alphabet = "234567ABCDEFGHIJKLMNOPQRSTUVWXYZ" // the base32 letters, in byte order
	var b [26]byte
	ms := time.Now().UnixMilli()
	for i := 9; i >= 0; i-- {
		b[i] = alphabet[ms&31]
		ms >>= 5
	}
	copy(b[10:], rand.Text())
	return string(b[:])
}

// HashCode is how activation codes are stored: only their SHA-256. Codes
// have 130 random bits, so a plain hash cannot be reversed by guessing.
func HashCode(code string) []byte {
	h := sha256.Sum256([]byte(code))
	return h[:]
}

// activeUser re-reads the user and refuses any state but active, as the
// process requires at its start, at every step and at enrollment.
func (s *Service) activeUser(ctx context.Context, userID int64) (*lanyard.User, error) {
	u, err := s.Users.FindUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	return u, requireEligible(u)
}

// requireEligible refuses a user in any state but active, and one whose
// email address no certificate can name.
func requireEligible(u *lanyard.User) error {
	if u.State != lanyard.UserActive {
		return lanyard.Errorf(lanyard.EUSERSTATE, "The user %s is %s; only active users can get a mobile ID.", u.Username, u.State)
	}
	// A user made before addresses were checked for this.
	if !lanyard.CertifiableEmail(u.Email) {
		return lanyard.Errorf(lanyard.EINVALID, "The email address %s cannot be named in a certificate (only ASCII addresses can), so no mobile ID can be made for it. Ask your administrator to change it.", u.Email)
	}
	return nil
}

// optionsFailed is a script that failed at run time for a user: it fails
// the process with its message, and starting the process tells the user.
type optionsFailed struct {
	err    *lanyard.Error
	user   *lanyard.User
	reason string
}

func (e *optionsFailed) Error() string { return e.err.Error() }
func (e *optionsFailed) Unwrap() error { return e.err }

// processOptions evaluates the current option script of process for u,
// and returns the options with the script's version.
func (s *Service) processOptions(ctx context.Context, process string, u *lanyard.User) (options.MobileID, int, error) {
	sc, err := s.Options.Current(ctx, process)
	if err != nil {
		return options.MobileID{}, 0, err
	}
	o, err := s.Options.MobileIDOf(sc, u)
	if lanyard.ErrorCode(err) == lanyard.EINVALID {
		return o, 0, &optionsFailed{
			err:    lanyard.Errorf(lanyard.EINVALID, "The mobile ID cannot be created because its options failed: %s Ask your administrator.", lanyard.ErrorMessage(err)),
			user:   u,
			reason: "The options of the process could not be evaluated: " + lanyard.ErrorMessage(err),
		}
	}
	return o, sc.Version, err
}

// notifyOptionsFailed tells the user that a process they (or an operator)
// started failed on its options. Only starting a process mails: showing
// the introduction does not. The failure is the script's, so the default
// of notifying applies, and with no change to report it with, the mail is
// queued on its own.
func (s *Service) notifyOptionsFailed(ctx context.Context, actor lanyard.Actor, err error) {
	var of *optionsFailed
	if !errors.As(err, &of) {
		return
	}
	m := failedMail(of.user, of.reason)
	if err := s.Mail.QueueMail(ctx, actor, m); err != nil {
		s.Logger.Error("queue notification", "kind", m.Kind, "err", err)
	}
}

// decodeOptions reads the options a process started with.
func decodeOptions(e *lanyard.Enrollment) (options.MobileID, error) {
	var o options.MobileID
	err := json.Unmarshal(e.Options, &o)
	return o, err
}
