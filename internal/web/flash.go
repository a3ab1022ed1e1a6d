package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/lanyard-id/lanyard"
)

// Messages after a redirect travel in a cookie of their own, never in the
// URL: a page of the portal says only what the portal itself said, and a
// crafted link cannot make it say anything else. The cookie is bound to
// the session by a MAC keyed with the session's token, which only the
// session's browser and the server know, so that no one else (a sibling
// domain that can set cookies, say) can plant one. Keeping the message in
// the browser spares the database a write when it is set and another when
// it is shown.

const flashCookie = "lanyard_flash"

// maxFlashText bounds a message's text in the cookie, well within what
// browsers keep of one.
const maxFlashText = 1000

// redirectNotice redirects to path, which then shows notice once.
func (s *Server) redirectNotice(w http.ResponseWriter, r *http.Request, path, notice string) {
	s.redirectFlash(w, r, path, lanyard.Flash{Notice: notice})
}

// redirectError redirects to path, which then shows msg as an error once.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, path, msg string) {
	s.redirectFlash(w, r, path, lanyard.Flash{Error: msg})
}

func (s *Server) redirectFlash(w http.ResponseWriter, r *http.Request, path string, f lanyard.Flash) {
	if token, ok := r.Context().Value(tokenKey).(string); ok {
		f.Notice, f.Error = clip(f.Notice, maxFlashText), clip(f.Error, maxFlashText)
		if b, err := json.Marshal(f); err == nil {
			s.setFlashCookie(w, sealFlash(token, b), 60)
		}
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// takeFlash returns the message the request's browser holds for this
// page's session and removes it, so it shows once.
func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) lanyard.Flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return lanyard.Flash{}
	}
	s.setFlashCookie(w, "", -1)
	token, ok := r.Context().Value(tokenKey).(string)
	if !ok {
		return lanyard.Flash{}
	}
	b, ok := openFlash(token, c.Value)
	var f lanyard.Flash
	if !ok || json.Unmarshal(b, &f) != nil {
		return lanyard.Flash{}
	}
	return f
}

func (s *Server) setFlashCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: flashCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// sealFlash is the cookie value of message b for the session of token:
// the message and its MAC, both base64url.
func sealFlash(token string, b []byte) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString(b) + "." + enc.EncodeToString(flashMAC(token, b))
}

// openFlash returns the message of a cookie value sealed for the session
// of token, or false.
func openFlash(token, value string) ([]byte, bool) {
	enc := base64.RawURLEncoding
	msg, mac, ok := strings.Cut(value, ".")
	if !ok {
		return nil, false
	}
	b, err1 := enc.DecodeString(msg)
	got, err2 := enc.DecodeString(mac)
	if err1 != nil || err2 != nil || !hmac.Equal(got, flashMAC(token, b)) {
		return nil, false
	}
	return b, true
}

func flashMAC(token string, b []byte) []byte {
	m := hmac.New(sha256.New, []byte("lanyard flash\x00"+token))
	m.Write(b)
	return m.Sum(nil)
}

// clip cuts s to at most n bytes, at a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
