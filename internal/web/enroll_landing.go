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
	w.Header().Set("Location", "../.."+webapp.Prefix+"#enroll?code="+url.QueryEscape(code))
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusSeeOther)
}
