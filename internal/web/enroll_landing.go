package web

import (
	"net/http"
	"net/url"

	"github.com/lanyard-id/lanyard/internal/webapp"
)

// handleEnrollLanding answers a browser that opens an enrollment link, as
// a phone's camera app does with the QR code: it goes on to the phone app's
// enrollment screen, the code travelling in the fragment, which browsers
// never send to a server. A GET never uses the code. The redirect is
// relative, so that it stays under a proxy's path prefix.
func (s *Server) handleEnrollLanding(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("code")
	if code == "" {
		s.render(w, r, http.StatusOK, "enroll_landing", view{Title: "Open with the mobile app"})
		return
	}
	toWallet(w, "enroll?code="+url.QueryEscape(code))
}

// toWallet sends a browser on to a screen of the phone app, what the
// screen needs in the fragment, which browsers never send to a server. The
// redirect is relative, so that it stays under a proxy's path prefix: the
// links it answers are <base>/app/v1/….
func toWallet(w http.ResponseWriter, fragment string) {
	w.Header().Set("Location", "../.."+webapp.Prefix+"#"+fragment)
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusSeeOther)
}
