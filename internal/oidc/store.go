package oidc

import (
	"context"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Client is an application registered to log its users in through Lanyard.
type Client struct {
	ID       int64 // the row's key
	ClientID string
	Name     string
	// RedirectURIs are the only addresses a code is sent to; they match
	// exactly, byte for byte.
	RedirectURIs []string
	// PostLogoutRedirectURIs are where RP-initiated logout may return to.
	PostLogoutRedirectURIs []string
	// Public clients (apps in a browser or on a device) hold no secret and
	// must use PKCE.
	Public bool
	// AllowPassword lets a password session log in to the application;
	// without it only a mobile ID login does.
	AllowPassword bool
	// RefreshTokens lets the client have refresh tokens (with the
	// offline_access scope); off unless asked for.
	RefreshTokens bool
	// SecretHash is the SHA-256 of the client secret; nil for public
	// clients. Secrets are 256 random bits, so a fast hash is enough.
	SecretHash []byte
	// IDTokenAlg signs the client's ID tokens: RS256 (the default) or ES256.
	IDTokenAlg string
	Disabled   bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// AuthRequest is an authorization request between the application's
// redirect to Lanyard and the code's exchange.
type AuthRequest struct {
	ID       string
	ClientID string
	Request  oidc.AuthRequest
	// AuthorizeURI is the path and query the request came with; the login
	// page returns to it.
	AuthorizeURI string
	// The user and how they logged in, set once they have logged in and
	// consented (Done).
	UserID    int64
	Subject   string
	Method    string
	AuthTime  time.Time
	Done      bool
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Token is an issued access token. The token the application holds is the
// ID and subject encrypted; the database keeps what it grants.
type Token struct {
	ID            string
	AuthRequestID string
	ClientID      string
	UserID        int64
	Subject       string
	Scopes        []string
	Revoked       bool
	ExpiresAt     time.Time
	// ByRefresh marks a token issued for a refresh token, not a code.
	ByRefresh bool
}

// RefreshToken is an issued refresh token; the application holds the
// token, the database its hash.
type RefreshToken struct {
	Hash          []byte
	AuthRequestID string // the grant: the request whose code started it
	ClientID      string
	UserID        int64
	Subject       string
	Method        string
	AuthTime      time.Time
	Scopes        []string
	ExpiresAt     time.Time
}

// Key is an ID token signing key: the private key sealed under the master
// key, the public key in PKIX DER. A retired key signs no more but is
// published until the tokens it signed have expired.
type Key struct {
	ID        string
	Algorithm string
	Sealed    []byte
	PublicKey []byte
	CreatedAt time.Time
	RetiredAt time.Time
}

// Consent is a user's permission for an application to receive the claims
// of the scopes named, remembered until the user withdraws it.
type Consent struct {
	UserID     int64
	ClientID   string
	ClientName string
	Scopes     []string
	CreatedAt  time.Time
}

// Store keeps the provider's state in the database. Every change that an
// administrator or user makes is audited in its own transaction.
type Store interface {
	CreateClient(ctx context.Context, actor lanyard.Actor, c *Client) error
	// FindClient returns ENOTFOUND for an unknown client ID.
	FindClient(ctx context.Context, clientID string) (*Client, error)
	FindClients(ctx context.Context) ([]*Client, error)
	// UpdateClient saves the name, URIs, password option, algorithm and
	// disabled flag of c.
	UpdateClient(ctx context.Context, actor lanyard.Actor, c *Client, detail string) error
	SetClientSecret(ctx context.Context, actor lanyard.Actor, clientID string, hash []byte) error
	// DeleteClient deletes the client with its consents and revokes its
	// tokens.
	DeleteClient(ctx context.Context, actor lanyard.Actor, clientID string) error

	// Subject returns the user's opaque subject, making it on first use.
	Subject(ctx context.Context, userID int64) (string, error)

	// CreateAuthRequest stores r, expiring after ttl, and sweeps expired ones.
	CreateAuthRequest(ctx context.Context, r *AuthRequest, ttl time.Duration) error
	// FindAuthRequest returns ENOTFOUND for an unknown or expired request.
	FindAuthRequest(ctx context.Context, id string) (*AuthRequest, error)
	// CompleteAuthRequest records who logged in and marks it done.
	CompleteAuthRequest(ctx context.Context, id string, userID int64, subject, method string, authTime time.Time) error
	// DeleteAuthRequest deletes a request that has no code; one with a code
	// stays until it expires, so a replayed code is recognised.
	DeleteAuthRequest(ctx context.Context, id string) error
	// SaveCode attaches the hash of a code to a request, valid for ttl.
	SaveCode(ctx context.Context, id string, codeHash []byte, ttl time.Duration) error
	// RedeemCode returns the request of an unused code. A code used before
	// is refused (ECONFLICT) and every token it issued is revoked; an
	// expired code is refused with EEXPIRED, an unknown one ENOTFOUND.
	RedeemCode(ctx context.Context, codeHash []byte) (*AuthRequest, error)

	// CreateToken stores t, expiring after ttl, and marks the code of its
	// request used; when it was used already, the exchange is a replay,
	// refused as RedeemCode refuses it.
	CreateToken(ctx context.Context, t *Token, ttl time.Duration) error
	// FindToken returns ENOTFOUND for an unknown token; a revoked or
	// expired one is returned as it is.
	FindToken(ctx context.Context, id string) (*Token, error)
	RevokeToken(ctx context.Context, id string) error

	// CreateRefreshToken stores rt, expiring after ttl.
	CreateRefreshToken(ctx context.Context, rt *RefreshToken, ttl time.Duration) error
	// CreateTokens uses up the refresh token usedRefresh (when set) or
	// the code of t's request, and stores t and (when set) rt, in one
	// transaction; a replay revokes its grant and is refused.
	CreateTokens(ctx context.Context, usedRefresh []byte, t *Token, ttl time.Duration, rt *RefreshToken, rtTTL time.Duration) error
	// FindRefreshToken returns a live refresh token. One used before is a
	// replay: its grant is revoked and ECONFLICT returned; a revoked or
	// expired one is EEXPIRED, an unknown one ENOTFOUND.
	FindRefreshToken(ctx context.Context, hash []byte) (*RefreshToken, error)
	// UseRefreshToken marks a refresh token used, once; a second use is a
	// replay, refused as FindRefreshToken refuses it.
	UseRefreshToken(ctx context.Context, hash []byte) error
	// RevokeGrant revokes every access and refresh token of a grant.
	RevokeGrant(ctx context.Context, authRequestID string) error

	// Keys returns every signing key, the active ones first.
	Keys(ctx context.Context) ([]*Key, error)
	// InsertKey stores a new active key; ECONFLICT when the algorithm has
	// an active key already.
	InsertKey(ctx context.Context, k *Key) error
	// RotateKeys retires the active keys of the new keys' algorithms,
	// stores the new ones and deletes keys retired before prune.
	RotateKeys(ctx context.Context, actor lanyard.Actor, keys []*Key, prune time.Time) error

	// FindConsent returns ENOTFOUND when the user has not consented.
	FindConsent(ctx context.Context, userID int64, clientID string) (*Consent, error)
	SaveConsent(ctx context.Context, actor lanyard.Actor, userID int64, clientID string, scopes []string) error
	FindConsents(ctx context.Context, userID int64) ([]*Consent, error)
	// DeleteConsent withdraws a consent and revokes the tokens it allowed.
	DeleteConsent(ctx context.Context, actor lanyard.Actor, userID int64, clientID string) error

	RecordAudit(ctx context.Context, actor lanyard.Actor, action, subject, detail string) error
}
