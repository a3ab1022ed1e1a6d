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
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	if currentUser(r) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", view{Title: "Log in", Data: loginView{Next: safeNext(r.URL.Query().Get("next"))}})
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
	userKey, addrKey := "user:"+truncate(username, 128), "addr:"+clientAddr(r)
	wait, err := s.loginWait(r.Context(), userKey, addrKey)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if wait > 0 {
		s.metrics.logins.WithLabelValues("rate_limited").Inc()
		secs := int(wait.Round(time.Second) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		page(http.StatusTooManyRequests, fmt.Sprintf("Too many failed login attempts. Try again in %s, at %s.",
			humanDuration(wait), time.Now().Add(wait).UTC().Format("15:04 UTC")))
		return
	}
	u, err := s.Users.Authenticate(r.Context(), username, pw)
	switch lanyard.ErrorCode(err) {
	case "":
	case lanyard.EUNAUTHORIZED:
		s.metrics.logins.WithLabelValues("wrong_credentials").Inc()
		if err := s.Limiter.RecordLoginFailure(r.Context(), userKey, addrKey); err != nil {
			s.serverError(w, r, err)
			return
		}
		// Only a known username is recorded: an unknown one may be a
		// password typed into the wrong field.
		subject := "(unknown user)"
		if known, err := s.Users.FindUserByUsername(r.Context(), username); err == nil {
			subject = known.Username
		}
		s.audit(r, "session.login_failed", subject, "wrong username or password")
		page(http.StatusUnauthorized, lanyard.ErrorMessage(err))
		return
	case lanyard.EUSERSTATE:
		s.metrics.logins.WithLabelValues("refused_state").Inc()
		s.audit(r, "session.login_refused", u.Username, "user state "+string(u.State))
		page(http.StatusForbidden, lanyard.ErrorMessage(err))
		return
	default:
		s.serverError(w, r, err)
		return
	}
	if err := s.Limiter.ClearLoginFailures(r.Context(), userKey); err != nil {
		s.serverError(w, r, err)
		return
	}
	// A fresh token on every login: a token planted before login is useless.
	if old, ok := r.Context().Value(tokenKey).(string); ok {
		s.Sessions.DeleteSession(r.Context(), old)
	}
	token, err := s.Sessions.CreateSession(r.Context(), u.ID, clientAddr(r), s.SessionTTL)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.metrics.logins.WithLabelValues("ok").Inc()
	s.setSessionCookie(w, token, s.SessionTTL)
	s.auditAs(r, lanyard.Actor{Username: u.Username, Addr: clientAddr(r)}, "session.login", u.Username, "")
	if u.MustChangePassword {
		http.Redirect(w, r, "/password", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, lv.Next, http.StatusSeeOther)
}

// loginWait is how long the longer-limited of the two keys must wait.
func (s *Server) loginWait(ctx context.Context, userKey, addrKey string) (time.Duration, error) {
	wu, err := s.Limiter.LoginAllowed(ctx, userKey, s.LoginUserLimit, s.LoginWindow)
	if err != nil {
		return 0, err
	}
	wa, err := s.Limiter.LoginAllowed(ctx, addrKey, s.LoginAddrLimit, s.LoginWindow)
	if err != nil {
		return 0, err
	}
	return max(wu, wa), nil
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
