package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/lanyard-id/lanyard"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// storage is the library's view of the provider: op.Storage over Store.
type storage struct {
	p *Provider
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// ctxKey keys what the provider's HTTP wrapper hands its storage about
// the request at hand.
type ctxKey int

const (
	authorizeURIKey ctxKey = iota
	algKey
	logoutKey
)

// CreateAuthRequest stores a validated request, refusing what Lanyard
// requires beyond the library: PKCE with S256 only, and PKCE always for
// public clients.
func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c, err := s.p.store.FindClient(ctx, req.ClientID)
	if err != nil {
		return nil, err
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if c.Public && req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE (code_challenge with S256) is required for this client")
	}
	// form_post would need a page with a script, which the portal's
	// policy forbids; fragments are for implicit flows.
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery {
		return nil, oidc.ErrInvalidRequest().WithDescription("response_mode must be query")
	}
	uri, _ := ctx.Value(authorizeURIKey).(string)
	r := &AuthRequest{ID: strings.ToLower(rand.Text() + rand.Text()), ClientID: c.ClientID, Request: *req, AuthorizeURI: uri}
	r.Request.IDTokenHint = "" // read once at validation; not kept
	if err := s.p.store.CreateAuthRequest(ctx, r, s.p.cfg.RequestTTL); err != nil {
		return nil, err
	}
	return opAuthRequest{r}, nil
}

// AuthRequestByID finds a request for the library's callback. Its errors
// reach the browser as text: a domain error says its message, an internal
// one is logged and said in general terms.
func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.p.store.FindAuthRequest(ctx, id)
	if err != nil {
		return nil, s.p.shown(ctx, err)
	}
	return opAuthRequest{r}, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.p.store.RedeemCode(ctx, hashSecret(code))
	if err != nil {
		return nil, err
	}
	return opAuthRequest{r}, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.p.store.SaveCode(ctx, id, hashSecret(code), s.p.cfg.CodeTTL)
}

func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	return s.p.store.DeleteAuthRequest(ctx, id)
}

// SigningKey is the active key of the algorithm the client registered.
func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	alg, _ := ctx.Value(algKey).(string)
	if alg == "" {
		alg = string(jose.RS256)
	}
	k, signer, err := s.p.keys.active(ctx, alg)
	if err != nil {
		return nil, err
	}
	return signingKey{id: k.ID, alg: jose.SignatureAlgorithm(k.Algorithm), signer: signer}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256, jose.ES256}, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) { return s.p.keys.published(ctx) }

// GetClientByClientID returns an enabled client; a disabled one is as
// unknown.
func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.p.store.FindClient(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if c.Disabled {
		return nil, lanyard.Errorf(lanyard.EFORBIDDEN, "The application is disabled.")
	}
	return opClient{c: c, idTokens: s.p.cfg.IDTokenTTL}, nil
}

var errClientSecret = errors.New("wrong client ID or secret")

// AuthorizeClientIDSecret checks a confidential client's secret.
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	c, err := s.p.store.FindClient(ctx, clientID)
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		return errClientSecret
	} else if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if c.Disabled || c.Public || len(c.SecretHash) == 0 || subtle.ConstantTimeCompare(hashSecret(secret), c.SecretHash) != 1 {
		return errClientSecret
	}
	return nil
}

func (s *storage) Health(ctx context.Context) error { return nil }

// shown is err as the library may show it to a person: the message of a
// domain error, or a server error for an internal one, which is logged.
func (p *Provider) shown(ctx context.Context, err error) error {
	if lanyard.ErrorCode(err) == lanyard.EINTERNAL {
		p.cfg.Logger.ErrorContext(ctx, "oidc request failed", "err", err)
		return oidc.ErrServerError().WithDescription("An internal error occurred. It has been logged; please try again later.")
	}
	return errors.New(lanyard.ErrorMessage(err))
}
