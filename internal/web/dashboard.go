package web

import "net/http"

// handleDashboard shows the Self-Service start page: what the user can do.
func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "dashboard", view{Title: "Dashboard", Nav: "dashboard"})
}

// handleMobileID shows the user's mobile ID.
func (s *Server) handleMobileID(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "mobileid", view{Title: "Mobile ID", Nav: "mobileid"})
}
