package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/mobileid"
)

// loginRequestCookie holds, in the browser that asked to log in with the
// mobile ID, the request's browser secret and link token. It is scoped to
// the request's own waiting page, so requests in several tabs keep apart.
const loginRequestCookie = "lanyard_login_request"

// loginRequestLimit is how many login requests one address may start a
// minute; each costs a row until it expires.
const loginRequestLimit = 30

// waitRefresh is how often the waiting page reloads itself, in seconds:
// the page has no script, and an approval shows within this time.
const waitRefresh = 1

type mobileLoginView struct {
	Request *lanyard.LoginRequest
	QR      template.URL // data: URL of the PNG, made here, never from input
	Link    string
}

// handleMobileLoginStart makes a login request for this browser and sends
// it to the request's waiting page.
func (s *Server) handleMobileLoginStart(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, maxFormBytes) {
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	key := "login-request:" + clientAddr(r)
	wait, err := s.Limiter.LoginAllowed(r.Context(), key, loginRequestLimit, time.Minute)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if wait > 0 {
		w.Header().Set("Retry-After", retryAfter(wait))
		s.render(w, r, http.StatusTooManyRequests, "login", view{Title: "Log in", Data: loginView{Next: next},
			Error: "Too many login requests from this address. Try again in " + humanDuration(wait) + "."})
		return
	}
	if err := s.Limiter.RecordLoginFailure(r.Context(), key); err != nil {
		s.serverError(w, r, err)
		return
	}
	started, err := s.MobileIDs.StartLogin(r.Context(), actor(r), mobileid.LoginStart{
		UserAgent: r.UserAgent(), Addr: clientAddr(r), Next: next,
	})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	path := "/login/mobile-id/" + started.Request.PublicID
	http.SetCookie(w, &http.Cookie{
		Name: loginRequestCookie, Value: started.BrowserSecret + "." + started.Token, Path: path,
		MaxAge: int(lanyard.LoginRequestTTL/time.Second) + 60, HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// handleMobileLoginWait is the waiting page: the QR code, the link and
// the number while the request is pending, reloading itself; the session
// once the phone approved; what went wrong otherwise.
func (s *Server) handleMobileLoginWait(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	secret, token := "", ""
	if c, err := r.Cookie(loginRequestCookie); err == nil {
		secret, token, _ = strings.Cut(c.Value, ".")
	}
	req, err := s.MobileIDs.LoginStatus(r.Context(), id, secret)
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		s.renderError(w, r, http.StatusNotFound, lanyard.ErrorMessage(err))
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	again := func(status int, msg string) {
		s.render(w, r, status, "login", view{Title: "Log in", Error: msg, Data: loginView{Next: req.Next}})
	}
	switch req.State {
	case lanyard.LoginPending:
		link := appclient.LoginLink(s.MobileIDs.BaseURL, token)
		png, err := mobileid.QRCode(link)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "login_mobileid", view{Title: "Log in with mobile ID", Refresh: waitRefresh, Data: mobileLoginView{
			Request: req, Link: link,
			QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		}})
	case lanyard.LoginApproved:
		if old, ok := r.Context().Value(tokenKey).(string); ok {
			s.Sessions.DeleteSession(r.Context(), old)
		}
		session, u, err := s.MobileIDs.CompleteLogin(r.Context(), lanyard.Actor{Addr: clientAddr(r)}, req, s.SessionTTL)
		switch lanyard.ErrorCode(err) {
		case "":
		case lanyard.ECONFLICT, lanyard.EUSERSTATE:
			again(http.StatusConflict, lanyard.ErrorMessage(err))
			return
		default:
			s.serverError(w, r, err)
			return
		}
		s.metrics.logins.WithLabelValues("ok_mobile_id").Inc()
		s.setSessionCookie(w, session, s.SessionTTL)
		http.SetCookie(w, &http.Cookie{Name: loginRequestCookie, Path: r.URL.Path, MaxAge: -1, HttpOnly: true, Secure: s.SecureCookies})
		s.Logger.Info("logged in with the mobile ID", "user", u.Username)
		http.Redirect(w, r, safeNext(req.Next), http.StatusSeeOther)
	case lanyard.LoginDenied:
		again(http.StatusForbidden, "The login was denied on the phone. Nobody is logged in.")
	case lanyard.LoginDone:
		again(http.StatusConflict, "This login request was used already. Log in again.")
	default:
		msg := req.Detail
		if msg == "expired" || msg == "" {
			msg = "The login request has expired. Log in again."
		}
		again(http.StatusForbidden, msg)
	}
}

// handleLoginLanding answers a browser that opens a login link, as the
// phone's camera app does with the QR code, or a tap on the link on the
// phone itself: it goes on to the phone app's approval screen, the token
// in the fragment only.
func (s *Server) handleLoginLanding(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("request")
	if token == "" {
		s.renderError(w, r, http.StatusNotFound, "This login link has no login request. Start again on the login page.")
		return
	}
	toWallet(w, "login?request="+url.QueryEscape(token))
}

// retryAfter is the value of a Retry-After header for a wait.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(wait.Round(time.Second)/time.Second)))
}
