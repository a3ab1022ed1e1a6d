package oidc

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/lanyard-id/lanyard"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Step is what the portal does next with an authorization request: send
// the browser to Redirect (the login page, or back to the application with
// a code), show the consent screen for Consent, or answer the application
// with an error (Refused; see Refuse).
type Step struct {
	Redirect string
	Consent  *ConsentRequest
	// Final is set when Redirect leads back to the application.
	Final   bool
	Refused bool
	refusal *oidc.Error
	request *AuthRequest
}

// ConsentRequest is what the consent screen shows.
type ConsentRequest struct {
	RequestID   string
	Application string
	Scopes      []string
	Claims      []string
	// RedirectOrigin is the scheme and host the answer goes to.
	RedirectOrigin string
}

// Continue takes an authorization request on after the library validated
// it. A user without a session, or with a password session where the
// application wants the mobile ID, is sent to log in; one who has not
// consented yet sees the consent screen; everyone else goes back to the
// application with a code.
//
// prompt=none gets login_required or consent_required instead of a page,
// prompt=consent the consent screen even when the consent is remembered;
// prompt=login and an exceeded max_age get the login page, which returns to
// the request without them, so that the fresh login satisfies it.
func (p *Provider) Continue(ctx context.Context, actor lanyard.Actor, id string, u *lanyard.User, sess *lanyard.Session) (*Step, error) {
	r, c, err := p.request(ctx, id)
	if err != nil {
		return nil, err
	}
	silent := slices.Contains(r.Request.Prompt, oidc.PromptNone)
	fresh := sess != nil && ((slices.Contains(r.Request.Prompt, oidc.PromptLogin) && sess.CreatedAt.Before(r.CreatedAt)) ||
		(r.Request.MaxAge != nil && p.now().Sub(sess.CreatedAt).Seconds() > float64(*r.Request.MaxAge)))
	if u == nil || sess == nil || (sess.Method != lanyard.AuthMobileID && !c.AllowPassword) || fresh {
		if silent {
			return &Step{Refused: true, refusal: oidc.ErrLoginRequired(), request: r}, nil
		}
		return &Step{Redirect: loginURL(r, c)}, nil
	}
	consent, err := p.store.FindConsent(ctx, u.ID, c.ClientID)
	if err != nil && lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		return nil, err
	}
	ask := slices.Contains(r.Request.Prompt, oidc.PromptConsent)
	if consent == nil || !covers(consent.Scopes, r.Request.Scopes) || ask {
		if silent {
			return &Step{Refused: true, refusal: &oidc.Error{ErrorType: "consent_required"}, request: r}, nil
		}
		return &Step{Consent: &ConsentRequest{RequestID: r.ID, Application: c.Name, Scopes: r.Request.Scopes, Claims: ClaimsOf(r.Request.Scopes), RedirectOrigin: origin(r.Request.RedirectURI)}}, nil
	}
	return p.complete(ctx, actor, r, c, u, sess)
}

// Refuse answers a refused step at the application's redirect URI.
func (p *Provider) Refuse(w http.ResponseWriter, r *http.Request, step *Step) {
	op.AuthRequestError(w, r, opAuthRequest{step.request}, step.refusal, p.op)
}

// Allow records the user's consent and sends them back with a code.
func (p *Provider) Allow(ctx context.Context, actor lanyard.Actor, id string, u *lanyard.User, sess *lanyard.Session) (*Step, error) {
	r, c, err := p.request(ctx, id)
	if err != nil {
		return nil, err
	}
	if sess == nil || (sess.Method != lanyard.AuthMobileID && !c.AllowPassword) {
		return &Step{Redirect: loginURL(r, c)}, nil
	}
	if err := p.store.SaveConsent(ctx, actor, u.ID, c.ClientID, r.Request.Scopes); err != nil {
		return nil, err
	}
	return p.complete(ctx, actor, r, c, u, sess)
}

// Deny refuses the request: the application learns access_denied at its
// redirect URI, as OpenID Connect Core §3.1.2.6 says.
func (p *Provider) Deny(w http.ResponseWriter, r *http.Request, actor lanyard.Actor, id string) error {
	ar, c, err := p.request(r.Context(), id)
	if err != nil {
		return err
	}
	if err := p.store.DeleteAuthRequest(r.Context(), ar.ID); err != nil {
		return err
	}
	if err := p.store.RecordAudit(r.Context(), actor, "oidc.consent.deny", c.ClientID, "denied "+joinScopes(ar.Request.Scopes)); err != nil {
		return err
	}
	op.AuthRequestError(w, r, opAuthRequest{ar}, oidc.ErrAccessDenied().WithDescription("the user denied the request"), p.op)
	return nil
}

// request returns a live request and its enabled client.
func (p *Provider) request(ctx context.Context, id string) (*AuthRequest, *Client, error) {
	r, err := p.store.FindAuthRequest(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	c, err := p.store.FindClient(ctx, r.ClientID)
	if err != nil {
		return nil, nil, err
	}
	if c.Disabled {
		return nil, nil, lanyard.Errorf(lanyard.EFORBIDDEN, "The application %s is disabled.", c.Name)
	}
	return r, c, nil
}

// complete records who logged in and how, and sends the browser to the
// library's callback, which makes the code.
func (p *Provider) complete(ctx context.Context, actor lanyard.Actor, r *AuthRequest, c *Client, u *lanyard.User, sess *lanyard.Session) (*Step, error) {
	sub, err := p.store.Subject(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if err := p.store.CompleteAuthRequest(ctx, r.ID, u.ID, sub, sess.Method, sess.CreatedAt); err != nil {
		return nil, err
	}
	if err := p.store.RecordAudit(ctx, actor, "oidc.login", c.ClientID, "logged in to "+c.Name+" by "+sess.Method); err != nil {
		return nil, err
	}
	return &Step{Redirect: callbackPath + "?id=" + r.ID, Final: true}, nil
}

func covers(granted, asked []string) bool {
	for _, s := range asked {
		if !slices.Contains(granted, s) {
			return false
		}
	}
	return true
}

// Consents lists the applications the user has consented to.
func (p *Provider) Consents(ctx context.Context, userID int64) ([]*Consent, error) {
	return p.store.FindConsents(ctx, userID)
}

// WithdrawConsent forgets a consent and revokes the application's tokens;
// the next login to it asks again.
func (p *Provider) WithdrawConsent(ctx context.Context, actor lanyard.Actor, userID int64, clientID string) error {
	return p.store.DeleteConsent(ctx, actor, userID, clientID)
}

// origin returns the scheme and host of an http(s) URI, or "".
func origin(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(u.Host, " ;,'") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
