package web

import (
	"net/http"

	"github.com/lanyard-id/lanyard/internal/mobileid"
)

// handleDashboard shows the Self-Service start page: what the user can do.
func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "dashboard", view{Title: "Dashboard", Nav: "dashboard"})
}

type mobileIDView struct {
	Current []mobileid.View
}

// handleMobileID shows the user's mobile IDs: the active profile first,
// with its certificates as the CA reports them.
func (s *Server) handleMobileID(w http.ResponseWriter, r *http.Request) {
	views, err := s.MobileIDs.Current(r.Context(), currentUser(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "mobileid", view{Title: "Mobile ID", Nav: "mobileid",
		Data: mobileIDView{Current: views}})
}

// handleLock locks one of the user's mobile IDs (MobileIDSelfServiceProcLock).
func (s *Server) handleLock(w http.ResponseWriter, r *http.Request) {
	err := s.MobileIDs.Lock(r.Context(), actor(r), currentUser(r).ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirectNotice(w, r, "/mobile-id", "The mobile ID is locked and its certificates are revoked.")
}
