package lanyard

import (
	"context"
	"time"
)

// Session is a server-side login session. The browser holds only a random
// token; the database holds its SHA-256 hash, so a database reader cannot
// take over a session.
type Session struct {
	ID        int64
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
	LastSeen  time.Time
	Addr      string
	// Method is how the user logged in: AuthPassword or AuthMobileID.
	Method string
}

// How a session's user logged in, as the RFC 8176 "amr" values that ID
// tokens carry.
const (
	// AuthPassword is a login with a password.
	AuthPassword = "pwd"
	// AuthMobileID is a login with the mobile ID: a signature by its
	// authentication key, which the phone holds in software ("swk").
	AuthMobileID = "swk"
)

// Flash is a message for the next page a user sees, set by the action
// that redirects there. The portal keeps it in a cookie bound to the
// session, never in the URL, so that no link can make a page of the portal
// say something of its own.
type Flash struct {
	Notice string `json:",omitempty"` // what succeeded
	Error  string `json:",omitempty"` // what went wrong
}

// Empty reports whether f holds no message.
func (f Flash) Empty() bool { return f.Notice == "" && f.Error == "" }

// SessionService creates, finds and ends login sessions. A session created
// by one instance is valid on every instance that shares the database.
type SessionService interface {
	// CreateSession starts a session for the user and returns the token to
	// put in the cookie.
	CreateSession(ctx context.Context, userID int64, addr string, ttl time.Duration) (token string, err error)
	// LogIn starts the session of a password login by actor, the user
	// userID, in one transaction with its audit event, and ends the session
	// of the token it replaces ("" for none).
	LogIn(ctx context.Context, actor Actor, userID int64, replaces string, ttl time.Duration) (token string, err error)
	// CreateSessionBy starts a session for a user who logged in by the
	// given method (AuthPassword or AuthMobileID).
	CreateSessionBy(ctx context.Context, userID int64, addr, method string, ttl time.Duration) (token string, err error)
	// FindSession returns the session and its user for a token, or
	// EUNAUTHORIZED when it is unknown or expired.
	FindSession(ctx context.Context, token string) (*Session, *User, error)
	DeleteSession(ctx context.Context, token string) error
	DeleteUserSessions(ctx context.Context, userID int64) error
}

// LoginLimiter counts failed logins per key (a username or an address)
// across all instances.
type LoginLimiter interface {
	// LoginAllowed returns how long to wait when key has had limit or more
	// failures within window, else zero.
	LoginAllowed(ctx context.Context, key string, limit int, window time.Duration) (time.Duration, error)
	RecordLoginFailure(ctx context.Context, keys ...string) error
	ClearLoginFailures(ctx context.Context, key string) error
}
