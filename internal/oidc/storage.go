package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"slices"
	"strings"
	"time"

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

// CreateAccessToken records an access token for a code's request, or for
// a refresh token.
func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	t := &Token{ID: strings.ToLower(rand.Text() + rand.Text())}
	switch r := req.(type) {
	case opAuthRequest:
		t.AuthRequestID, t.ClientID, t.UserID, t.Subject, t.Scopes = r.r.ID, r.r.ClientID, r.r.UserID, r.r.Subject, r.r.Request.Scopes
	case *refreshRequest:
		t.AuthRequestID, t.ClientID, t.UserID, t.Subject, t.Scopes, t.ByRefresh = r.rt.AuthRequestID, r.rt.ClientID, r.rt.UserID, r.rt.Subject, r.scopes, true
	default:
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	if err := s.p.store.CreateToken(ctx, t, s.p.cfg.AccessTokenTTL); err != nil {
		return "", time.Time{}, err
	}
	return t.ID, t.ExpiresAt, nil
}

// CreateAccessAndRefreshTokens issues an access token and a refresh
// token, for a code (the first of a grant) or for a refresh token, which
// is used up and replaced.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	var rt *RefreshToken
	switch r := req.(type) {
	case opAuthRequest:
		rt = &RefreshToken{AuthRequestID: r.r.ID, ClientID: r.r.ClientID, UserID: r.r.UserID, Subject: r.r.Subject,
			Method: r.r.Method, AuthTime: r.r.AuthTime, Scopes: r.r.Request.Scopes}
	case *refreshRequest:
		if err := s.p.store.UseRefreshToken(ctx, hashSecret(current)); err != nil {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithParent(err)
		}
		rt = r.rt
		rt.Scopes = r.scopes
	default:
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	id, exp, err := s.CreateAccessToken(ctx, req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	token := "rt_" + rand.Text() + rand.Text()
	next := *rt
	next.Hash = hashSecret(token)
	if err := s.p.store.CreateRefreshToken(ctx, &next, s.p.cfg.RefreshTokenTTL); err != nil {
		return "", "", time.Time{}, err
	}
	return id, token, exp, nil
}

// TokenRequestByRefreshToken returns the grant of a live refresh token.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	rt, err := s.p.store.FindRefreshToken(ctx, hashSecret(token))
	if err != nil {
		return nil, err
	}
	return &refreshRequest{rt: rt, scopes: rt.Scopes}, nil
}

// GetRefreshTokenInfo names a refresh token for revocation (RFC 7009).
func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	if !strings.HasPrefix(token, "rt_") {
		return "", "", op.ErrInvalidRefreshToken
	}
	rt, err := s.p.store.FindRefreshToken(ctx, hashSecret(token))
	if err != nil || rt.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.Subject, refreshTokenID + rt.AuthRequestID, nil
}

// refreshTokenID prefixes the grant that GetRefreshTokenInfo names.
const refreshTokenID = "grant:"

// TerminateSession is replaced by TerminateSessionFromRequest.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// TerminateSessionFromRequest ends the browser's portal session, which the
// portal handed over in the context, and the user's tokens for the
// application.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	if logout, ok := ctx.Value(logoutKey).(func(context.Context) error); ok {
		if err := logout(ctx); err != nil {
			return "", err
		}
	}
	return req.RedirectURI, nil
}

// RevokeToken revokes an access token of the client (RFC 7009).
func (s *storage) RevokeToken(ctx context.Context, tokenID, _, clientID string) *oidc.Error {
	if grant, ok := strings.CutPrefix(tokenID, refreshTokenID); ok {
		// A refresh token: its whole grant goes.
		if err := s.p.store.RevokeGrant(ctx, grant); err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		return nil
	}
	t, err := s.p.store.FindToken(ctx, tokenID)
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		return nil // RFC 7009 §2.2: an unknown token is no error
	} else if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if t.ClientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("the token was issued to another client")
	}
	if err := s.p.store.RevokeToken(ctx, tokenID); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
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

// SetUserinfoFromScopes is the library's deprecated hook; claims come from
// SetUserinfoFromRequest.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest puts the user's claims into an ID token.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	switch r := req.(type) {
	case opAuthRequest:
		return s.p.setClaims(ctx, info, r.r.UserID, r.r.Subject, scopes)
	case *refreshRequest:
		return s.p.setClaims(ctx, info, r.rt.UserID, r.rt.Subject, scopes)
	}
	return oidc.ErrServerError().WithDescription("unexpected token request")
}

// SetUserinfoFromToken answers userinfo for a live access token.
func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.p.liveToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	return s.p.setClaims(ctx, info, t.UserID, t.Subject, t.Scopes)
}

// SetIntrospectionFromToken answers introspection for the token's client.
func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.p.liveToken(ctx, tokenID, subject)
	if err != nil || t.ClientID != clientID {
		return oidc.ErrInvalidRequest().WithDescription("token is not active")
	}
	var info oidc.UserInfo
	if err := s.p.setClaims(ctx, &info, t.UserID, t.Subject, t.Scopes); err != nil {
		return err
	}
	resp.SetUserInfo(&info)
	resp.Active, resp.ClientID, resp.Scope = true, t.ClientID, oidc.SpaceDelimitedArray(t.Scopes)
	resp.Audience = []string{t.ClientID}
	resp.Expiration = oidc.FromTime(t.ExpiresAt)
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

var errNoJWTProfile = oidc.ErrUnsupportedGrantType().WithDescription("JWT profile grants are not supported")

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNoJWTProfile
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errNoJWTProfile
}

func (s *storage) Health(ctx context.Context) error { return nil }

// liveToken returns an access token that is neither revoked nor expired,
// whose user may still log in.
func (p *Provider) liveToken(ctx context.Context, tokenID, subject string) (*Token, error) {
	t, err := p.store.FindToken(ctx, tokenID)
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		return nil, oidc.ErrInvalidRequest().WithDescription("token is not active")
	} else if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if t.Revoked || !p.now().Before(t.ExpiresAt) || t.Subject != subject {
		return nil, oidc.ErrInvalidRequest().WithDescription("token is not active")
	}
	return t, nil
}

// setClaims fills the claims of the scopes. Email addresses count as
// verified: administrators or the directory set them, not the user, and
// the mobile ID's certificates carry them.
func (p *Provider) setClaims(ctx context.Context, info *oidc.UserInfo, userID int64, subject string, scopes []string) error {
	u, err := p.users.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	if u.State != lanyard.UserActive {
		return oidc.ErrAccessDenied().WithDescription("the user may not log in")
	}
	info.Subject = subject
	if slices.Contains(scopes, oidc.ScopeEmail) {
		info.Email, info.EmailVerified = u.Email, true
	}
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name, info.PreferredUsername = u.CommonName, u.Username
	}
	return nil
}

// shown is err as the library may show it to a person: the message of a
// domain error, or a server error for an internal one, which is logged.
func (p *Provider) shown(ctx context.Context, err error) error {
	if lanyard.ErrorCode(err) == lanyard.EINTERNAL {
		p.cfg.Logger.ErrorContext(ctx, "oidc request failed", "err", err)
		return oidc.ErrServerError().WithDescription("An internal error occurred. It has been logged; please try again later.")
	}
	return errors.New(lanyard.ErrorMessage(err))
}
