package oidc

import (
	"context"
	"slices"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/lanyard-id/lanyard"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

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
