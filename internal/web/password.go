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
// account over; wrong guesses count against the same limit as logins. A
// changed password ends every other session of the user.
func (s *Server) handlePassword(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, maxFormBytes) {
		return
	}
	u := currentUser(r)
	page := func(status int, msg string) {
		s.render(w, r, status, "password", view{Title: "Change password", Nav: "password", Error: msg})
	}
	current, next, repeat := r.PostForm.Get("current"), r.PostForm.Get("new"), r.PostForm.Get("repeat")
	_, authErr, ok := s.checkPassword(w, r, u.Username, current, page)
	if !ok {
		return
	}
	if authErr != nil {
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
	// SetPassword ended every session; this browser gets a new one.
	token, err := s.Sessions.CreateSession(r.Context(), u.ID, clientAddr(r), s.SessionTTL)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setSessionCookie(w, token, s.SessionTTL)
	u.MustChangePassword = false
	s.render(w, r, http.StatusOK, "password", view{Title: "Change password", Nav: "password", Notice: "Your password has been changed."})
}
