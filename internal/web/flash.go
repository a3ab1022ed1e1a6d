package web

import (
	"net/http"

	"github.com/lanyard-id/lanyard"
)

// Messages after a redirect travel in the session, on the server, never in
// the URL: a page of the portal says only what the portal itself said, and
// a crafted link cannot make it say anything else.

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
		// The change is made already; a message that cannot be kept is
		// logged rather than failing the request.
		if err := s.Sessions.SetFlash(r.Context(), token, f); err != nil {
			s.Logger.Error("keep message for the next page", "err", err)
		}
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// takeFlash returns the message the request's session holds for this page
// and removes it, so it shows once.
func (s *Server) takeFlash(r *http.Request) lanyard.Flash {
	sess, ok := r.Context().Value(sessionKey).(*lanyard.Session)
	if !ok || sess.Flash.Empty() {
		return lanyard.Flash{}
	}
	f := sess.Flash
	sess.Flash = lanyard.Flash{}
	if token, ok := r.Context().Value(tokenKey).(string); ok {
		if err := s.Sessions.ClearFlash(r.Context(), token); err != nil {
			s.Logger.Error("clear shown message", "err", err)
		}
	}
	return f
}
