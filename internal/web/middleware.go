package web

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"

	"github.com/lanyard-id/lanyard"
)

const sessionCookie = "lanyard_session"

type ctxKey int

const (
	userKey ctxKey = iota
	tokenKey
	sessionKey
)

// currentUser returns the logged-in user of r, or nil.
func currentUser(r *http.Request) *lanyard.User {
	u, _ := r.Context().Value(userKey).(*lanyard.User)
	return u
}

// loadSession puts the user of a valid session cookie into the request's
// context. A missing, unknown, expired or forged cookie leaves it empty.
func (s *Server) loadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err == nil && c.Value != "" {
			sess, u, err := s.Sessions.FindSession(r.Context(), c.Value)
			if err == nil {
				ctx := context.WithValue(r.Context(), userKey, u)
				ctx = context.WithValue(ctx, tokenKey, c.Value)
				ctx = context.WithValue(ctx, sessionKey, sess)
				r = r.WithContext(ctx)
			} else if lanyard.ErrorCode(err) != lanyard.EUNAUTHORIZED {
				s.serverError(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// requireLogin sends visitors without a session to the login page.
func (s *Server) requireLogin(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.renderError(w, r, http.StatusUnauthorized, "Your session has ended. Please log in again.")
			return
		}
		h(w, r)
	})
}

// requireUser is requireLogin for pages that also need a password that is
// not one-time: users who must change theirs are sent to do so first.
func (s *Server) requireUser(h http.HandlerFunc) http.Handler {
	return s.requireLogin(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r).MustChangePassword {
			http.Redirect(w, r, "/password", http.StatusSeeOther)
			return
		}
		h(w, r)
	})
}

// requireRole lets only users with role, or with one of also, through;
// others get 403 naming role.
func (s *Server) requireRole(role lanyard.Role, h http.HandlerFunc, also ...lanyard.Role) http.Handler {
	return s.requireUser(func(w http.ResponseWriter, r *http.Request) {
		u := currentUser(r)
		if !u.HasRole(role) && !slices.ContainsFunc(also, u.HasRole) {
			s.renderError(w, r, http.StatusForbidden, "This page is for users with the "+string(role)+" role.")
			return
		}
		h(w, r)
	})
}

// requireOperator lets operators and administrators through.
func (s *Server) requireOperator(h http.HandlerFunc) http.Handler {
	return s.requireRole(lanyard.RoleOperator, h, lanyard.RoleAdmin)
}

// securityHeaders sets headers that keep pages out of frames, block inline
// script and keep pages out of caches; served over HTTPS (secure cookies),
// it also tells browsers to use nothing else.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if s.SecureCookies {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic into a logged 500 page instead of a dropped
// connection; the stack goes to the log, never to the client.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				s.renderError(w, r, http.StatusInternalServerError, "An internal error occurred. It has been logged.")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// clientAddr is the client's IP address, the key for per-address limits.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// actor is who makes the change a request asks for.
func actor(r *http.Request) lanyard.Actor {
	a := lanyard.Actor{Addr: clientAddr(r)}
	if u := currentUser(r); u != nil {
		a.Username = u.Username
	}
	return a
}
