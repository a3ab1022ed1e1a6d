package oidc

import (
	"context"
	"crypto/rand"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// CreateAccessToken records an access token for a code's request, or for
// a refresh token.
func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	t, err := newAccessToken(req)
	if err != nil {
		return "", time.Time{}, err
	}
	if err := s.p.store.CreateToken(ctx, t, s.p.cfg.AccessTokenTTL); err != nil {
		return "", time.Time{}, err
	}
	return t.ID, t.ExpiresAt, nil
}

// newAccessToken is the access token a request gets, not yet stored.
func newAccessToken(req op.TokenRequest) (*Token, error) {
	t := &Token{ID: strings.ToLower(rand.Text() + rand.Text())}
	switch r := req.(type) {
	case opAuthRequest:
		t.AuthRequestID, t.ClientID, t.UserID, t.Subject, t.Scopes = r.r.ID, r.r.ClientID, r.r.UserID, r.r.Subject, r.r.Request.Scopes
	case *refreshRequest:
		t.AuthRequestID, t.ClientID, t.UserID, t.Subject, t.Scopes, t.ByRefresh = r.rt.AuthRequestID, r.rt.ClientID, r.rt.UserID, r.rt.Subject, r.scopes, true
	default:
		return nil, oidc.ErrUnsupportedGrantType()
	}
	return t, nil
}

// CreateAccessAndRefreshTokens issues an access token and a refresh
// token, for a code (the first of a grant) or for a refresh token, which
// is used up and replaced, all in one transaction: a request that fails
// half way has used up nothing, so the application's retry is no replay.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	var rt *RefreshToken
	var used []byte
	switch r := req.(type) {
	case opAuthRequest:
		rt = &RefreshToken{AuthRequestID: r.r.ID, ClientID: r.r.ClientID, UserID: r.r.UserID, Subject: r.r.Subject,
			Method: r.r.Method, AuthTime: r.r.AuthTime, Scopes: r.r.Request.Scopes}
	case *refreshRequest:
		used = hashSecret(current)
		rt = r.rt
		rt.Scopes = r.scopes
	default:
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	t, err := newAccessToken(req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	token := "rt_" + rand.Text() + rand.Text()
	next := *rt
	next.Hash = hashSecret(token)
	err = s.p.store.CreateTokens(ctx, used, t, s.p.cfg.AccessTokenTTL, &next, s.p.cfg.RefreshTokenTTL)
	if code := lanyard.ErrorCode(err); used != nil && (code == lanyard.ENOTFOUND || code == lanyard.ECONFLICT) {
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithParent(err)
	}
	if err != nil {
		return "", "", time.Time{}, err
	}
	return t.ID, token, t.ExpiresAt, nil
}

// TokenRequestByRefreshToken returns the grant of a live refresh token.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	rt, err := s.p.store.FindRefreshToken(ctx, hashSecret(token))
	if err != nil {
		return nil, err
	}
	// Checked before anything is written: a user who may no longer log in
	// gets no tokens, and the refresh token is not used up.
	u, err := s.p.users.FindUserByID(ctx, rt.UserID)
	if err != nil {
		return nil, err
	}
	if u.State != lanyard.UserActive {
		return nil, oidc.ErrInvalidGrant().WithDescription("the user may not log in")
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
