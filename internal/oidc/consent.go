package oidc

import (
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// loginURL is the portal's login page, returning to the request; only the
// mobile ID is offered unless the client allows passwords.
//
// The login page returns to the authorization request as it came, unless
// that address is longer than a login page keeps: then to the request's
// next step, which holds it.
func loginURL(r *AuthRequest, c *Client) string {
	next := withoutFreshLogin(r.AuthorizeURI)
	if len(next) > maxNext {
		next = ContinuePath + "?id=" + r.ID
	}
	u := "/login?next=" + url.QueryEscape(next)
	if !c.AllowPassword {
		u += "&method=mobile-id"
	}
	return u
}

// maxNext is the longest address the portal's login page returns to.
const maxNext = 512

// scopeClaims says, for the consent screen, what each scope hands over.
var scopeClaims = map[string]string{
	oidc.ScopeOpenID:        "an identifier of you that tells nothing about you (sub), and how you logged in (acr, amr)",
	oidc.ScopeProfile:       "your name and username (name, preferred_username)",
	oidc.ScopeEmail:         "your email address (email, email_verified)",
	oidc.ScopeOfflineAccess: "access while you are not logged in, until you withdraw it (offline_access)",
}

// ClaimsOf describes the claims of scopes, for a person to read.
func ClaimsOf(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if d, ok := scopeClaims[s]; ok {
			out = append(out, d)
		}
	}
	return out
}

func joinScopes(s []string) string { return strings.Join(s, " ") }

// withoutFreshLogin drops prompt=login and max_age from an authorization
// request's URI: after the login they asked for, the request is met.
func withoutFreshLogin(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	q := u.Query()
	if !q.Has("prompt") && !q.Has("max_age") {
		return uri
	}
	q.Del("max_age")
	if prompts := slices.DeleteFunc(strings.Fields(q.Get("prompt")), func(p string) bool { return p == oidc.PromptLogin }); len(prompts) > 0 {
		q.Set("prompt", strings.Join(prompts, " "))
	} else {
		q.Del("prompt")
	}
	u.RawQuery = q.Encode()
	return u.RequestURI()
}
