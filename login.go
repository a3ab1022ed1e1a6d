package lanyard

import (
	"context"
	"time"
)

// LoginRequest is one attempt to log in with the mobile ID: a browser asks
// for it, the phone that holds the user's mobile ID approves or denies it,
// and the browser that asked turns an approval into a session.
type LoginRequest struct {
	ID       int64
	PublicID string // names the request in the waiting page's address
	// Challenge is what the phone signs, with the server's origin and the
	// request's ID.
	Challenge []byte
	// Match is the two-digit number the browser shows; Choices are the
	// three the phone offers, Match among them.
	Match   string
	Choices []string
	// UserAgent and Addr describe the browser that asked.
	UserAgent string
	Addr      string
	// Next is where the browser goes once logged in.
	Next  string
	State LoginState
	// Detail says why a request failed, for the browser's page.
	Detail string
	// UserID and MobileID are who approved it (zero before).
	UserID    int64
	MobileID  int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// LoginState is where a login request stands.
type LoginState string

// The states of a login request: pending until the phone answers; then
// approved, denied or failed (a wrong number, a mobile ID or user not
// active, expiry); done once the approval became a session.
const (
	LoginPending  LoginState = "pending"
	LoginApproved LoginState = "approved"
	LoginDenied   LoginState = "denied"
	LoginFailed   LoginState = "failed"
	LoginDone     LoginState = "done"
)

// LoginRequestTTL is how long a login request can be answered.
const LoginRequestTTL = 2 * time.Minute

// LoginRequestStore keeps login requests. A request's link token and the
// asking browser's secret are stored as hashes only.
type LoginRequestStore interface {
	// CreateLoginRequest stores a new pending request, open for
	// LoginRequestTTL, and sets its times; audited.
	CreateLoginRequest(ctx context.Context, actor Actor, r *LoginRequest, tokenHash, browserHash []byte) error
	// FindLoginRequestByToken finds a request by its link token's hash.
	FindLoginRequestByToken(ctx context.Context, tokenHash []byte) (*LoginRequest, error)
	// FindLoginRequest finds a request by its public ID, for the browser
	// whose secret hashes to browserHash; ENOTFOUND for any other.
	FindLoginRequest(ctx context.Context, publicID string, browserHash []byte) (*LoginRequest, error)
	// AnswerLoginRequest moves a pending request to state (approved,
	// denied or failed) with who answered and why, audited; ECONFLICT when
	// it is no longer pending.
	AnswerLoginRequest(ctx context.Context, actor Actor, id int64, state LoginState, userID, mobileID int64, detail string) error
	// CompleteLoginRequest turns an approved request into a session of the
	// mobile ID for the browser that asked, in one transaction, and returns
	// the session's token and user; ECONFLICT when it is not approved.
	CompleteLoginRequest(ctx context.Context, actor Actor, id int64, sessionTTL time.Duration) (token string, u *User, err error)
}
