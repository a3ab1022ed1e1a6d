package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/oidc"
)

// OpenID Connect: the protocol endpoints are the provider's; the pages of
// the flow — the step after the authorization request and the consent
// screen — are the portal's.

// handleOIDC passes discovery and the protocol endpoints to the provider,
// with what RP-initiated logout needs of the browser's session.
func (s *Server) handleOIDC(w http.ResponseWriter, r *http.Request) {
	if oidc.IsEndSession(r) {
		token, _ := r.Context().Value(tokenKey).(string)
		u := currentUser(r)
		r = r.WithContext(oidc.WithLogout(r.Context(), func(ctx context.Context) error {
			if token == "" {
				return nil
			}
			if err := s.Sessions.DeleteSession(ctx, token); err != nil {
				return err
			}
			return s.Audit.RecordAudit(ctx, lanyard.Actor{Username: u.Username, Addr: clientAddr(r)}, "session.logout", u.Username, "logged out by an application (RP-initiated logout)")
		}))
	}
	if r.URL.Path == oidc.AuthorizePath || r.URL.Path == oidc.AuthorizePath+"/callback" {
		// A request the library refuses without redirecting to the
		// application (an unknown client, a redirect URI not registered)
		// gets the portal's error page rather than a line of text.
		w = &authorizeRefusal{ResponseWriter: w, s: s, r: r}
	}
	s.OIDC.ServeHTTP(w, r)
}

// authorizeRefusal turns the provider's plain-text refusals of an
// authorization request into the portal's error page.
type authorizeRefusal struct {
	http.ResponseWriter
	s       *Server
	r       *http.Request
	refused bool
	msg     strings.Builder
}

func (a *authorizeRefusal) WriteHeader(status int) {
	if status == http.StatusBadRequest && strings.HasPrefix(a.Header().Get("Content-Type"), "text/plain") {
		a.refused = true
		return
	}
	a.ResponseWriter.WriteHeader(status)
}

func (a *authorizeRefusal) Write(b []byte) (int, error) {
	if !a.refused {
		return a.ResponseWriter.Write(b)
	}
	if a.msg.Len() == 0 {
		a.Header().Del("Content-Type")
		a.msg.Write(b)
		a.s.renderError(a.ResponseWriter, a.r, http.StatusBadRequest, "The application's login request was refused: "+refusalText(a.msg.String()))
	}
	return len(b), nil
}

// currentSession returns the browser's session, which the middleware
// found already, or nil.
func (s *Server) currentSession(r *http.Request) *lanyard.Session {
	sess, _ := r.Context().Value(sessionKey).(*lanyard.Session)
	return sess
}

// handleOIDCContinue is where an authorization request goes once the
// provider has validated it: to the login page, the consent screen or back
// to the application.
func (s *Server) handleOIDCContinue(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	if u != nil && u.MustChangePassword {
		http.Redirect(w, r, "/password", http.StatusSeeOther)
		return
	}
	step, err := s.OIDC.Continue(r.Context(), actor(r), r.URL.Query().Get("id"), u, s.currentSession(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.oidcStep(w, r, step)
}

func (s *Server) oidcStep(w http.ResponseWriter, r *http.Request, step *oidc.Step) {
	switch {
	case step.Refused:
		s.OIDC.Refuse(w, r, step)
		return
	case step.Final && r.Method == http.MethodGet && r.Header.Get("Sec-Fetch-Site") == "same-origin":
		// The browser came from a page of the portal, perhaps by the
		// redirects after the login form, and a form's policy
		// (form-action 'self') would stop the redirect chain at the
		// application. A page of its own starts a new navigation.
		s.render(w, r, http.StatusOK, "oidc_continue", view{Title: "Back to the application", Data: step.Redirect})
		return
	case step.Consent == nil:
		http.Redirect(w, r, step.Redirect, http.StatusSeeOther)
		return
	}
	// Allow and Deny end at the application: its origin is a form target.
	if o := step.Consent.RedirectOrigin; o != "" {
		csp := w.Header().Get("Content-Security-Policy")
		w.Header().Set("Content-Security-Policy", strings.Replace(csp, "form-action 'self'", "form-action 'self' "+o, 1))
	}
	s.render(w, r, http.StatusOK, "oidc_consent", view{Title: "Allow " + step.Consent.Application + "?", Data: step.Consent})
}

// handleOIDCConsent answers the consent screen: Allow remembers the
// consent and returns to the application with a code, Deny returns with
// access_denied.
func (s *Server) handleOIDCConsent(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, maxFormBytes) {
		return
	}
	u := currentUser(r)
	if u == nil {
		s.renderError(w, r, http.StatusUnauthorized, "Your session has ended. Please start again from the application.")
		return
	}
	id := r.PostForm.Get("id")
	switch r.PostForm.Get("decision") {
	case "allow":
		step, err := s.OIDC.Allow(r.Context(), actor(r), id, u, s.currentSession(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.oidcStep(w, r, step)
	case "deny":
		if err := s.OIDC.Deny(w, r, actor(r), id); err != nil {
			s.fail(w, r, err)
		}
	default:
		s.renderError(w, r, http.StatusBadRequest, "Please choose Allow or Deny.")
	}
}

// refusalText is the reason in a refusal the library wrote: its
// description, without the error type and the error it wraps.
func refusalText(s string) string {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "ErrorType="); ok {
		typ, desc, _ := strings.Cut(rest, " Description=")
		s = typ
		if desc != "" {
			s = desc
		}
	}
	s, _, _ = strings.Cut(s, " Parent=")
	if s == "" {
		return "it is malformed."
	}
	return s
}
