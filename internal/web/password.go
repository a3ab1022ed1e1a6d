package web

import (
	"net/http"

	"github.com/lanyard-id/lanyard"
)

func (s *Server) handlePasswordPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "password", view{Title: "Change password", Nav: "password"})
}

// handlePassword changes the user's own password. The current password is
// asked for even when it is one-time, so a stolen session cannot take the
// account over.
func (s *Server) handlePassword(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	u := currentUser(r)
	page := func(status int, msg string) {
		s.render(w, r, status, "password", view{Title: "Change password", Nav: "password", Error: msg})
	}
	current, next, repeat := r.PostForm.Get("current"), r.PostForm.Get("new"), r.PostForm.Get("repeat")
	if _, err := s.Users.Authenticate(r.Context(), u.Username, current); err != nil {
		if lanyard.ErrorCode(err) == lanyard.EINTERNAL {
			s.serverError(w, r, err)
			return
		}
		page(http.StatusBadRequest, "The current password is wrong.")
		return
	}
	switch {
	case next != repeat:
		page(http.StatusBadRequest, "The new passwords do not match.")
		return
	case next == current:
		page(http.StatusBadRequest, "The new password must differ from the current one.")
		return
	}
	if err := s.Users.SetPassword(r.Context(), actor(r), u.Username, next, false); err != nil {
		if lanyard.ErrorCode(err) == lanyard.EINVALID {
			page(http.StatusBadRequest, lanyard.ErrorMessage(err))
			return
		}
		s.fail(w, r, err)
		return
	}
	u.MustChangePassword = false
	s.render(w, r, http.StatusOK, "password", view{Title: "Change password", Nav: "password", Notice: "Your password has been changed."})
}
