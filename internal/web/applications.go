package web

import (
	"net/http"

	"github.com/lanyard-id/lanyard/internal/oidc"
)

// applicationsView lists the applications a user has let log them in.
type applicationsView struct {
	Consents []*oidc.Consent
}

// handleApplications shows the user's consents, each with Withdraw.
func (s *Server) handleApplications(w http.ResponseWriter, r *http.Request) {
	cs, err := s.OIDC.Consents(r.Context(), currentUser(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, c := range cs {
		c.Scopes = oidc.ClaimsOf(c.Scopes)
	}
	s.render(w, r, http.StatusOK, "applications", view{Title: "Applications", Nav: "applications", Data: applicationsView{Consents: cs}})
}

// handleWithdrawConsent withdraws the user's consent to one application.
func (s *Server) handleWithdrawConsent(w http.ResponseWriter, r *http.Request) {
	err := s.OIDC.WithdrawConsent(r.Context(), actor(r), currentUser(r).ID, r.PathValue("client"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirectNotice(w, r, "/applications", "Consent withdrawn. The application asks again at your next login.")
}
