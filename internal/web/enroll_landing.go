package web

import "net/http"

// handleEnrollLanding answers a browser that opens an enrollment link, as a
// phone's camera app may do with the QR code: the link is for the mobile
// app, which the page says, without touching the code.
func (s *Server) handleEnrollLanding(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "enroll_landing", view{Title: "Open with the mobile app"})
}
