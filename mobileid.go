package lanyard

import (
	"context"
	"time"
)

// MobileIDState is the lifecycle state of a mobile ID.
//
//	registered → active → inactive → active …
//	any → locked (final) · any → deleted
type MobileIDState string

// The mobile ID states.
const (
	// MobileIDRegistered waits for the app to enrol with its activation code.
	MobileIDRegistered MobileIDState = "registered"
	// MobileIDActive is on a device, its certificates valid.
	MobileIDActive MobileIDState = "active"
	// MobileIDInactive belongs to a deactivated user; its certificates are on hold.
	MobileIDInactive MobileIDState = "inactive"
	// MobileIDLocked is final: its signature and authentication
	// certificates are revoked; encryption keys stay archived.
	MobileIDLocked MobileIDState = "locked"
	// MobileIDDeleted was never completed (cancelled or expired) or was
	// removed; it is kept for the audit trail only.
	MobileIDDeleted MobileIDState = "deleted"
)

// MobileID is a set of certificates on one device of a user, with the
// profile the app shows.
type MobileID struct {
	ID          int64
	PublicID    string // the opaque ID the app uses
	UserID      int64
	State       MobileIDState
	Process     string
	ProfileName string
	ServerName  string
	ProfileUser string // the profile's "user ID" property, e.g. the email
	DeviceName  string
	// TransportKey is the X25519 public key the app made; server-made keys
	// are sealed to it.
	TransportKey    []byte
	RecoveryPending bool
	CreatedAt       time.Time
	ActivatedAt     time.Time
	UpdatedAt       time.Time
	Certificates    []MobileIDCertificate
}

// MobileIDCertificate links a certificate to the mobile ID that holds it.
type MobileIDCertificate struct {
	Serial    string
	Usage     CertificateUsage
	Recovered bool // an archived encryption key delivered to this device
}

// Serials returns the serials of the mobile ID's certificates of a usage.
func (m *MobileID) Serials(usage CertificateUsage, recovered bool) []string {
	var s []string
	for _, c := range m.Certificates {
		if c.Usage == usage && c.Recovered == recovered {
			s = append(s, c.Serial)
		}
	}
	return s
}

// ProcessStep is where a "Get mobile ID" process stands.
type ProcessStep string

// The steps of the process, and its ends.
const (
	StepIntro      ProcessStep = "intro"
	StepRecovery   ProcessStep = "recovery"
	StepActivation ProcessStep = "activation"
	StepFinished   ProcessStep = "finished"
	StepCancelled  ProcessStep = "cancelled"
	StepFailed     ProcessStep = "failed"
)

// Enrollment is one run of a process that creates a mobile ID: the wizard
// in Self-Service or an operator's supply, with its activation code.
type Enrollment struct {
	ID       int64
	PublicID string // in the wizard's URLs
	UserID   int64
	Process  string
	Step     ProcessStep
	// Options is the JSON of the options the process started with, so a
	// script saved meanwhile does not change a running process.
	Options []byte
	// OptionsVersion, when not 0, is the version of the process's script
	// that Options came from: the process opens only while that version is
	// the newest (ErrOptionsChanged). It is not stored.
	OptionsVersion int
	// Usages are the certificate kinds to issue.
	Usages []CertificateUsage
	// RecoverSerials are the archived encryption certificates to deliver,
	// chosen in the manual recovery form.
	RecoverSerials []string
	ByEmail        bool
	CodeExpiresAt  time.Time
	MobileID       int64 // the registered mobile ID waiting for the app, or 0
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// ActivationCode is a new activation code as the store keeps it: only its
// hash, with the mobile ID it registers (when the process has none yet)
// and the mails that carry it.
type ActivationCode struct {
	Hash      []byte
	ExpiresAt time.Time
	MobileID  *MobileID
	Mails     []Mail
}

// PeekedCode is what a valid activation code leads to.
type PeekedCode struct {
	Enrollment *Enrollment
	User       *User
	MobileID   *MobileID // waiting for the app, so without certificates
	// HasArchive reports whether the user has archived encryption keys.
	HasArchive bool
}

// MobileIDStore keeps mobile IDs, enrollments and activation codes.
type MobileIDStore interface {
	CreateEnrollment(ctx context.Context, actor Actor, e *Enrollment) error
	// OpenEnrollment starts the process e for its user in one
	// transaction: the user's active or inactive mobile ID is locked with
	// its certificates revoked when lockExisting confirms it (ECONFLICT
	// when there is one and it does not), the user's open processes end,
	// mobile IDs still waiting for the app are deleted, and e is created.
	// With code, e's mobile ID is registered and the code issued with its
	// mails, as SetActivationCode does; e.Step StepFinished ends the
	// process there, as an operator's supply does.
	OpenEnrollment(ctx context.Context, actor Actor, e *Enrollment, lockExisting bool, code *ActivationCode) error
	FindEnrollment(ctx context.Context, userID int64, publicID string) (*Enrollment, error)
	FindEnrollmentByMobileID(ctx context.Context, mobileID int64) (*Enrollment, error)
	// FindOpenEnrollments lists a user's processes that have not ended.
	FindOpenEnrollments(ctx context.Context, userID int64) ([]*Enrollment, error)
	// UpdateEnrollment saves a process's step and choices; mails are queued
	// in the same transaction, as are those of every method below. A
	// process that ends voids its code and deletes its mobile ID waiting
	// for the app; a cancelled one locks its mobile ID if the app enrolled
	// meanwhile, revoking its certificates.
	UpdateEnrollment(ctx context.Context, actor Actor, e *Enrollment, action, detail string, mails ...Mail) error
	// FinishEnrollment ends the user's process publicID at its activation
	// step with its last Next and returns the state of its mobile ID, in
	// one transaction; a process finished already returns the state as
	// well, and one that ended otherwise is ECONFLICT.
	FinishEnrollment(ctx context.Context, actor Actor, userID int64, publicID string) (MobileIDState, error)
	// SetActivationCode stores the hash of a new code for the enrollment,
	// voiding any earlier one, queues the code's mails, and creates the
	// code's registered mobile ID if the enrollment has none yet.
	SetActivationCode(ctx context.Context, actor Actor, e *Enrollment, code *ActivationCode) error
	// PeekActivationCode finds the enrollment of a valid code without
	// using it up: ENOTFOUND for an unknown or used code, EEXPIRED for an
	// expired one.
	PeekActivationCode(ctx context.Context, codeHash []byte) (*Enrollment, error)
	// PeekCode is PeekActivationCode with what the app's enrollment needs
	// besides, read with it: the user, the mobile ID waiting for the app,
	// and whether the user has archived keys.
	PeekCode(ctx context.Context, codeHash []byte) (*PeekedCode, error)
	// ClaimActivationCode consumes a code: exactly one caller gets the
	// enrollment; later callers get ENOTFOUND, expired codes EEXPIRED.
	ClaimActivationCode(ctx context.Context, codeHash []byte) (*Enrollment, error)
	// FindEnrollmentByUsedCode returns the process whose code was used
	// with codeHash while the code would still be valid, so that an app
	// that lost the answer to its enrollment can ask again; ENOTFOUND
	// otherwise.
	FindEnrollmentByUsedCode(ctx context.Context, codeHash []byte) (*Enrollment, error)

	FindMobileID(ctx context.Context, id int64) (*MobileID, error)
	FindMobileIDByPublicID(ctx context.Context, publicID string) (*MobileID, error)
	FindMobileIDBySerial(ctx context.Context, serial string) (*MobileID, error)
	// FindMobileIDs lists a user's live mobile IDs (registered, active,
	// inactive) and the newest locked ones up to lockedLimit, newest first.
	FindMobileIDs(ctx context.Context, userID int64, lockedLimit int) ([]*MobileID, error)
	// EnrollMobileID records the app's enrollment in one transaction: it
	// consumes the code as ClaimActivationCode does, refuses a user who
	// is not active (EUSERSTATE), records the signed certificates with
	// their archived keys, makes the registered mobile ID m (which must be
	// the code's) active with m's device, transport key and pending
	// recovery and with those certificates, queues the mails and audits.
	// Whatever fails leaves everything as it was, the code still valid.
	EnrollMobileID(ctx context.Context, actor Actor, codeHash []byte, m *MobileID, certs []SignedCertificate, mails ...Mail) (*Enrollment, error)
	// SetMobileIDState changes the state of m and, in the same
	// transaction, every certificate issued to it to match: locked and
	// deleted revoke them, inactive holds them, active again releases
	// them; a CRL is owed from the commit. Locked is final except for
	// deletion; deleted is final.
	SetMobileIDState(ctx context.Context, actor Actor, m *MobileID, state MobileIDState, detail string) error
	AddRecoveredCertificates(ctx context.Context, actor Actor, m *MobileID, serials []string) error
	// PendingRecoveries lists up to limit active mobile IDs with recovery
	// pending whose row ID is above afterID, in the order of that ID, so
	// that a caller pages past the ones it could not serve.
	PendingRecoveries(ctx context.Context, afterID int64, limit int) ([]*MobileID, error)
	// ExpireEnrollments ends enrollments whose code expired, deleting their
	// registered mobile IDs, and returns how many it ended.
	ExpireEnrollments(ctx context.Context) (int, error)

	// FailInterrupted ends enrollments whose code was used more than
	// olderThan ago without the mobile ID becoming active (the server
	// stopped midway), deleting their registered mobile IDs.
	FailInterrupted(ctx context.Context, olderThan time.Duration) (int, error)
	// RepairCertificates brings every certificate's status to what the
	// state of the mobile ID it was issued to asks (held while inactive,
	// revoked once locked or deleted or when it never became active), and
	// revokes good certificates that no mobile ID holds, issued more than
	// grace ago. Each change is audited and owes a CRL. It returns how
	// many certificates it changed.
	RepairCertificates(ctx context.Context, grace time.Duration) (int, error)
	// RepairUserMobileIDs carries the state of users who are not active
	// to mobile IDs left behind (inactive: held; locked: locked and
	// revoked), never reactivating one, and returns how many it changed.
	RepairUserMobileIDs(ctx context.Context) (int, error)

	// RememberDeviceRequest records a device-signed request by the hash
	// of its signature until expires; one recorded already gives
	// ECONFLICT, so a replayed request is refused.
	RememberDeviceRequest(ctx context.Context, mobileID int64, signatureHash []byte, expires time.Time) error

	CreateChallenge(ctx context.Context, publicID string, challenge []byte, expires time.Time) error
	// ClaimChallenge consumes a challenge once.
	ClaimChallenge(ctx context.Context, publicID string) ([]byte, error)

	ReminderStore
}

// ExpiringMobileID is an active mobile ID of an active user with the time
// it expires: the earliest end of validity of the certificates issued to
// it (recovered ones do not count).
type ExpiringMobileID struct {
	MobileID  *MobileID // without its certificates
	User      *User
	ExpiresAt time.Time
	// Sent lists the kinds of the reminders recorded for it already.
	Sent []string
}

// ReminderStore remembers what Lanyard told users about their mobile IDs,
// so that each reminder goes out once across restarts and instances.
type ReminderStore interface {
	// ExpiringMobileIDs lists the active mobile IDs of active users that
	// expire after from and no later than to, soonest first.
	ExpiringMobileIDs(ctx context.Context, from, to time.Time) ([]*ExpiringMobileID, error)
	// RecordReminder claims the reminder kind of m, such as "before:30",
	// and in the same transaction queues its mails and writes the audit
	// event action with detail. It returns false, changing nothing, when
	// the reminder was recorded already.
	RecordReminder(ctx context.Context, actor Actor, m *MobileID, kind, action, detail string, mails ...Mail) (bool, error)
}
