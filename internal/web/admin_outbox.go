package web

import (
	"context"
	"net/http"

	"github.com/lanyard-id/lanyard"
)

// OutboxLister lists the mail queue for Admin › Outbox.
type OutboxLister interface {
	ListMail(ctx context.Context, limit int) ([]*lanyard.OutboxMessage, error)
}

// handleAdminOutbox lists queued and sent mail, without bodies: a body may
// hold an activation link meant for its recipient only.
func (s *Server) handleAdminOutbox(w http.ResponseWriter, r *http.Request) {
	msgs, err := s.Outbox.ListMail(r.Context(), 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_outbox", view{Title: "Outbox", Nav: "admin", Data: msgs})
}
