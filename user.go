package lanyard

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// UserState is the lifecycle state of a user. Only active users log in to
// Self-Service and get mobile IDs.
type UserState string

// The user states.
const (
	UserRegistered UserState = "registered"
	UserActive     UserState = "active"
	UserInactive   UserState = "inactive"
	UserLocked     UserState = "locked"
)

// UserStates lists every user state in lifecycle order.
var UserStates = []UserState{UserRegistered, UserActive, UserInactive, UserLocked}

// Valid reports whether s is one of the user states.
func (s UserState) Valid() bool { return slices.Contains(UserStates, s) }

// Role grants access to a part of the portal. Every user may use
// Self-Service; operators and administrators get more.
type Role string

// The roles.
const (
	RoleUser     Role = "user"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleUser, RoleOperator, RoleAdmin}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// User is a person known to Lanyard.
type User struct {
	ID         int64
	Username   string
	Email      string
	CommonName string
	Attributes map[string]string
	State      UserState
	Roles      []Role
	// MustChangePassword is set for one-time passwords, such as the one the
	// first start prints for the administrator.
	MustChangePassword bool
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// HasRole reports whether u holds role r.
func (u *User) HasRole(r Role) bool { return slices.Contains(u.Roles, r) }

// Limits on user fields keep rows, pages and certificates sane.
const (
	MaxUsernameLen   = 64
	MaxEmailLen      = 254
	MaxCommonNameLen = 64 // the X.520 upper bound for commonName
	MaxPasswordLen   = 1024
	MinPasswordLen   = 8
)

var (
	usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]*$`)
	emailRE    = regexp.MustCompile(`^[^\s@<>()",;:\\\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
)

// CertifiableEmail reports whether a certificate can name email: its
// subject alternative name is an rfc822Name, an IA5String (RFC 5280
// §4.2.1.6), so only ASCII addresses. Internationalized ones (RFC 6531)
// would need an SmtpUTF8Mailbox name (RFC 9598), which few mail clients
// read.
func CertifiableEmail(email string) bool {
	for i := 0; i < len(email); i++ {
		if email[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Validate checks the fields a user is created with and returns an EINVALID
// error naming the first bad field.
func (u *User) Validate() error {
	switch {
	case u.Username == "":
		return Errorf(EINVALID, "The username is required.")
	case len(u.Username) > MaxUsernameLen:
		return Errorf(EINVALID, "The username may have at most %d characters.", MaxUsernameLen)
	case !usernameRE.MatchString(u.Username):
		return Errorf(EINVALID, "The username may contain only lower-case letters, digits and . _ @ -, and must start with a letter or digit.")
	case u.Email == "":
		return Errorf(EINVALID, "The email address is required.")
	case len(u.Email) > MaxEmailLen || !emailRE.MatchString(u.Email):
		return Errorf(EINVALID, "The email address is not valid.")
	case !ValidText(u.Username + u.Email + u.CommonName):
		return Errorf(EINVALID, "The username, email address and common name must be valid text.")
	case !CertifiableEmail(u.Email):
		return Errorf(EINVALID, "The email address may contain only ASCII characters: a certificate cannot name others.")
	case strings.TrimSpace(u.CommonName) == "":
		return Errorf(EINVALID, "The common name is required.")
	case utf8.RuneCountInString(u.CommonName) > MaxCommonNameLen || !utf8.ValidString(u.CommonName) || hasControl(u.CommonName):
		return Errorf(EINVALID, "The common name must be valid text of at most %d characters.", MaxCommonNameLen)
	case !u.State.Valid():
		return Errorf(EINVALID, "The state %q is not one of registered, active, inactive, locked.", u.State)
	}
	for _, r := range u.Roles {
		if !r.Valid() {
			return Errorf(EINVALID, "The role %q is not one of user, operator, admin.", r)
		}
	}
	for k, v := range u.Attributes {
		if !ValidText(k+v) || k == "" || len(k) > 64 || len(v) > 1024 || hasControl(k) || hasControl(v) {
			return Errorf(EINVALID, "Attribute names must have 1 to 64 characters and values at most 1024, without control characters.")
		}
	}
	return nil
}

// ValidatePassword checks a new password against the password policy.
func ValidatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return Errorf(EINVALID, "The password must have at least %d characters.", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return Errorf(EINVALID, "The password may have at most %d bytes.", MaxPasswordLen)
	}
	return nil
}

// ValidText reports whether s can be stored and searched as text on every
// database engine: valid UTF-8 without NUL bytes. Input that fails it is
// refused at the edge instead of failing deep in a driver.
func ValidText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// UserFilter selects users in a listing.
type UserFilter struct {
	Query string // matched against username, email and common name
	State UserState
	Role  Role // only users holding this role
	Limit int
}

// UserService manages users and their credentials.
type UserService interface {
	// CreateUser creates u with the given password (empty: no password,
	// the user cannot log in until one is set).
	CreateUser(ctx context.Context, actor Actor, u *User, password string) error
	// ImportUsers creates all users or none, with an audit event for each.
	ImportUsers(ctx context.Context, actor Actor, users []NewUser) error
	// ImportUserStream creates every user src yields, or none, in one
	// transaction and with one audit event for the whole import. It
	// returns how many users it created.
	ImportUserStream(ctx context.Context, actor Actor, src UserStream) (int, error)
	// HashPassword returns the hash a new password is stored as, so that
	// a large import can hash its passwords before its transaction.
	HashPassword(password string) string
	FindUserByID(ctx context.Context, id int64) (*User, error)
	FindUserByUsername(ctx context.Context, username string) (*User, error)
	FindUsers(ctx context.Context, f UserFilter) ([]*User, error)
	SetUserState(ctx context.Context, actor Actor, username string, state UserState) (*User, error)
	SetUserRoles(ctx context.Context, actor Actor, username string, roles []Role) (*User, error)
	// SetPassword sets a password and ends the user's sessions.
	SetPassword(ctx context.Context, actor Actor, username, password string, mustChange bool) error
	// Authenticate checks a username and password. It returns EUNAUTHORIZED
	// for an unknown user and for a wrong password alike, taking about the
	// same time for both, and EUSERSTATE for a user who may not log in.
	Authenticate(ctx context.Context, username, password string) (*User, error)
}

// NewUser is a user to be created together with its initial password.
type NewUser struct {
	User     User
	Password string
	// PasswordHash, set instead of Password, is stored as it is: an
	// argon2id hash in PHC form or a bcrypt hash, as made by HashPassword
	// or taken over from another system.
	PasswordHash string
}

// UserStream yields the users of an import batch by batch.
type UserStream interface {
	// Next returns the next users, or io.EOF after the last. Any other
	// error ends the import with nothing created.
	Next() ([]NewUser, error)
	// Taken is told of each user of the batch Next returned last whose
	// username belongs to an existing user; the import then creates
	// nothing.
	Taken(i int)
	// Done is called once Next returned io.EOF; an error from it ends the
	// import with nothing created.
	Done() error
}
