package oidc

import (
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// opClient presents a Client to the library.
type opClient struct {
	c        *Client
	idTokens time.Duration
}

var _ op.Client = opClient{}

func (c opClient) GetID() string                    { return c.c.ClientID }
func (c opClient) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c opClient) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }

// ApplicationType is web for confidential clients. Public ones are user
// agent clients, not native: the library lets native clients' loopback
// redirects differ in the port, and Lanyard matches redirect URIs exactly.
func (c opClient) ApplicationType() op.ApplicationType {
	if c.c.Public {
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}

func (c opClient) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

// GrantTypes is the code grant, and refresh tokens for the clients that
// may have them; never the implicit flow.
func (c opClient) GrantTypes() []oidc.GrantType {
	if c.c.RefreshTokens {
		return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	}
	return []oidc.GrantType{oidc.GrantTypeCode}
}

// LoginURL is the portal's page that logs the user in, asks consent and
// sends them back with a code.
func (c opClient) LoginURL(id string) string           { return ContinuePath + "?id=" + id }
func (c opClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c opClient) IDTokenLifetime() time.Duration      { return c.idTokens }
func (c opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c opClient) IsScopeAllowed(string) bool { return false }

// IDTokenUserinfoClaimsAssertion puts the claims of the granted scopes in
// the ID token too, so an application needs no userinfo call.
func (c opClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c opClient) ClockSkew() time.Duration             { return 0 }

// DevMode lets a public client use an http:// redirect URI (a loopback
// address, say) that an administrator registered; the URI must still match
// exactly.
func (c opClient) DevMode() bool { return c.c.Public }

// opAuthRequest presents an AuthRequest to the library.
type opAuthRequest struct{ r *AuthRequest }

var _ op.AuthRequest = opAuthRequest{}

func (a opAuthRequest) GetID() string { return a.r.ID }

// GetACR names how the user logged in, in Lanyard's terms.
func (a opAuthRequest) GetACR() string {
	if a.r.Method == lanyard.AuthMobileID {
		return ACRMobileID
	}
	return ACRPassword
}
func (a opAuthRequest) GetAMR() []string {
	if a.r.Method == "" {
		return nil
	}
	return []string{a.r.Method}
}
func (a opAuthRequest) GetAudience() []string  { return []string{a.r.ClientID} }
func (a opAuthRequest) GetAuthTime() time.Time { return a.r.AuthTime }
func (a opAuthRequest) GetClientID() string    { return a.r.ClientID }
func (a opAuthRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.Request.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.Request.CodeChallenge, Method: a.r.Request.CodeChallengeMethod}
}
func (a opAuthRequest) GetNonce() string                   { return a.r.Request.Nonce }
func (a opAuthRequest) GetRedirectURI() string             { return a.r.Request.RedirectURI }
func (a opAuthRequest) GetResponseType() oidc.ResponseType { return a.r.Request.ResponseType }
func (a opAuthRequest) GetResponseMode() oidc.ResponseMode { return a.r.Request.ResponseMode }
func (a opAuthRequest) GetScopes() []string                { return a.r.Request.Scopes }
func (a opAuthRequest) GetState() string                   { return a.r.Request.State }
func (a opAuthRequest) GetSubject() string                 { return a.r.Subject }
func (a opAuthRequest) Done() bool                         { return a.r.Done }

// The acr values of ID tokens: how strongly the user was authenticated.
const (
	ACRMobileID = "urn:lanyard:acr:mobile-id"
	ACRPassword = "urn:lanyard:acr:password"
)

// refreshRequest is a grant continued by a refresh token, as the library's
// op.RefreshTokenRequest.
type refreshRequest struct {
	rt     *RefreshToken
	scopes []string
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string            { return []string{r.rt.Method} }
func (r *refreshRequest) GetAudience() []string       { return []string{r.rt.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.rt.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.rt.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.rt.Subject }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }
