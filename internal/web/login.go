package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
)

// maxFormBytes bounds every form body; no form of the portal needs more.
const maxFormBytes = 64 << 10

// parseForm reads a form body of at most limit bytes; a form that cannot
// be read is answered with 400 here, and the caller returns.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request, limit int64) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "The form could not be read.")
		return false
	}
	return true
}

type loginView struct {
	Username string
	Next     string
	// MobileOnly offers the mobile ID login alone, as an application that
	// does not accept passwords asks with method=mobile-id.
	MobileOnly bool
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	next, mobileOnly := safeNext(r.URL.Query().Get("next")), r.URL.Query().Get("method") == "mobile-id"
	// A logged-in user goes on, unless the login asked for is the mobile
	// ID and the session is of a password: an application that accepts the
	// mobile ID alone sends such a user here to log in with it.
	if currentUser(r) != nil {
		sess, _ := r.Context().Value(sessionKey).(*lanyard.Session)
		if !mobileOnly || sess != nil && sess.Method == lanyard.AuthMobileID {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
	}
	s.render(w, r, http.StatusOK, "login", view{Title: "Log in", Data: loginView{Next: next, MobileOnly: mobileOnly}})
}

// safeNext keeps a post-login redirect on this site: a path of its own,
// nothing a browser could read as another host. Browsers drop tabs and
// newlines from a URL and read a backslash as a slash, so "/\t/evil" and
// "/\\evil" are "//evil" to them; a next holding any control character,
// space or backslash is refused outright rather than cleaned.
func safeNext(next string) string {
	if len(next) > 512 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" {
		return "/"
	}
	return next
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, maxFormBytes) {
		return
	}
	username := strings.ToLower(strings.TrimSpace(r.PostForm.Get("username")))
	pw := r.PostForm.Get("password")
	lv := loginView{Username: username, Next: safeNext(r.PostForm.Get("next"))}
	if len(username) > lanyard.MaxUsernameLen {
		lv.Username = ""
	}
	page := func(status int, msg string) {
		s.render(w, r, status, "login", view{Title: "Log in", Error: msg, Data: lv})
	}
	if username == "" || pw == "" {
		page(http.StatusBadRequest, "Enter your username and password.")
		return
	}
	addr := clientAddr(r)
	u, authErr, ok := s.checkPassword(w, r, username, pw, page)
	if !ok {
		return
	}
	switch lanyard.ErrorCode(authErr) {
	case "":
	case lanyard.EUSERSTATE:
		s.metrics.logins.WithLabelValues("refused_state").Inc()
		s.audit(r, "session.login_refused", u.Username, "user state "+string(u.State))
		page(http.StatusForbidden, lanyard.ErrorMessage(authErr))
		return
	default:
		// Only a known username is recorded: an unknown one may be a
		// password typed into the wrong field.
		subject := "(unknown user)"
		if known, err := s.Users.FindUserByUsername(r.Context(), username); err == nil {
			subject = known.Username
		}
		s.audit(r, "session.login_failed", subject, "wrong username or password")
		page(http.StatusUnauthorized, lanyard.ErrorMessage(authErr))
		return
	}
	// A fresh token on every login: a token planted before login is useless.
	old, _ := r.Context().Value(tokenKey).(string)
	token, err := s.Sessions.LogIn(r.Context(), lanyard.Actor{Username: u.Username, Addr: addr}, u.ID, old, s.SessionTTL)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.metrics.logins.WithLabelValues("ok").Inc()
	s.setSessionCookie(w, token, s.SessionTTL)
	if u.MustChangePassword {
		http.Redirect(w, r, "/password", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, lv.Next, http.StatusSeeOther)
}

// hashWait bounds how long a login waits for a free password hashing slot
// before it is told to come back.
const hashWait = 10 * time.Second

// checkPassword checks username's password under the login limits. It
// answers the request itself, with page, when the attempt must wait, the
// account is locked, the server is too busy or something failed, and then
// returns ok false; otherwise it returns what Authenticate returned: the
// user and nil, the user and EUSERSTATE (the password was right), or
// EUNAUTHORIZED.
//
// The attempt is claimed, and counted as a failure, before the password is
// hashed, and hashing waits for a slot of the Hashing gate: a burst of
// guesses costs at most the gate's slots of memory and no more attempts
// than the limits allow.
func (s *Server) checkPassword(w http.ResponseWriter, r *http.Request, username, pw string, page func(int, string)) (u *lanyard.User, authErr error, ok bool) {
	ctx, addr := r.Context(), clientAddr(r)
	a, err := s.Throttle.ReserveLogin(ctx, username, addr)
	if err != nil {
		s.serverError(w, r, err)
		return nil, nil, false
	}
	if a.Locked {
		s.metrics.logins.WithLabelValues("locked").Inc()
		page(http.StatusForbidden, "Password login to this account is locked after too many failed attempts. Ask an administrator to lift the lock.")
		return nil, nil, false
	}
	if a.Wait > 0 {
		s.metrics.logins.WithLabelValues("rate_limited").Inc()
		// Rounded up: a client that comes back after Retry-After is let in.
		secs := int((a.Wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		page(http.StatusTooManyRequests, fmt.Sprintf("Too many failed login attempts. Try again in %s, at %s.",
			humanDuration(a.Wait), time.Now().Add(time.Duration(secs)*time.Second).UTC().Format("15:04:05 UTC")))
		return nil, nil, false
	}
	hashCtx, cancel := context.WithTimeout(ctx, hashWait)
	defer cancel()
	if err := s.Hashing.Acquire(hashCtx); err != nil {
		s.releaseLogin(r, username, addr)
		s.metrics.logins.WithLabelValues("busy").Inc()
		w.Header().Set("Retry-After", "5")
		page(http.StatusServiceUnavailable, "The server is busy. Try again in a few seconds.")
		return nil, nil, false
	}
	u, err = s.Users.Authenticate(ctx, username, pw)
	s.Hashing.Release()
	switch lanyard.ErrorCode(err) {
	case "", lanyard.EUSERSTATE:
		if err := s.Throttle.LoginSucceeded(ctx, username, addr); err != nil {
			s.serverError(w, r, err)
			return nil, nil, false
		}
		return u, err, true
	case lanyard.EUNAUTHORIZED:
		s.metrics.logins.WithLabelValues("wrong_credentials").Inc()
		if a.Last {
			if known, ferr := s.Users.FindUserByUsername(ctx, username); ferr == nil {
				s.audit(r, "user.login_locked", known.Username, "password login locked after too many failed attempts in a row")
			}
		}
		return nil, err, true
	}
	s.releaseLogin(r, username, addr)
	s.serverError(w, r, err)
	return nil, nil, false
}

// releaseLogin gives back an attempt whose password was never checked.
func (s *Server) releaseLogin(r *http.Request, username, addr string) {
	if err := s.Throttle.ReleaseLogin(r.Context(), username, addr); err != nil {
		s.Logger.Error("give back login attempt", "err", err)
	}
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if token, ok := r.Context().Value(tokenKey).(string); ok {
		if err := s.Sessions.DeleteSession(r.Context(), token); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.audit(r, "session.logout", currentUser(r).Username, "")
	}
	s.setSessionCookie(w, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string, ttl time.Duration) {
	c := &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/",
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode,
	}
	if ttl < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(ttl / time.Second)
	}
	http.SetCookie(w, c)
}

// audit records an event by the request's user; a failure to record is
// logged, since the change it reports has already happened.
func (s *Server) audit(r *http.Request, action, subject, detail string) {
	s.auditAs(r, actor(r), action, subject, detail)
}

func (s *Server) auditAs(r *http.Request, a lanyard.Actor, action, subject, detail string) {
	if err := s.Audit.RecordAudit(r.Context(), a, action, subject, detail); err != nil {
		s.Logger.Error("record audit event", "action", action, "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// humanDuration says a wait in whole minutes, or seconds under a minute.
func humanDuration(d time.Duration) string {
	if d < time.Minute {
		n := int(d.Round(time.Second) / time.Second)
		return plural(max(n, 1), "second")
	}
	return plural(int((d+time.Minute-1)/time.Minute), "minute")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
