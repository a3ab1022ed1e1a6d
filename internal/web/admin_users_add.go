package web

import (
	"fmt"
	"net/http"
	"runtime"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/userimport"
)

// oneTimeView shows a one-time password once, on the answer to the POST
// that made it: it is never put in a URL, a log or the database in clear.
type oneTimeView struct {
	User     *lanyard.User
	Password string
	Created  bool
}

// handleAdminUserAdd creates a user with a one-time password, which the
// user must change at the first login.
func (s *Server) handleAdminUserAdd(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, maxFormBytes) {
		return
	}
	f := r.PostForm
	u := &lanyard.User{
		Username: f.Get("username"), Email: f.Get("email"), CommonName: f.Get("name"),
		State: lanyard.UserState(f.Get("state")), MustChangePassword: true,
	}
	for _, role := range f["role"] {
		u.Roles = append(u.Roles, lanyard.Role(role))
	}
	pw := password.Generate(20)
	err := s.Users.CreateUser(r.Context(), actor(r), u, pw)
	switch lanyard.ErrorCode(err) {
	case "":
	case lanyard.EINVALID, lanyard.ECONFLICT:
		v, serr := s.searchUsers(r, 500)
		if serr != nil {
			s.fail(w, r, serr)
			return
		}
		v.New = newUserForm{Username: truncate(f.Get("username"), 64), Email: truncate(f.Get("email"), 254), Name: truncate(f.Get("name"), 64)}
		s.render(w, r, statusOf(err), "admin_users", view{Title: "Users", Nav: "admin", Error: lanyard.ErrorMessage(err), Data: v})
		return
	default:
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_onetime", view{Title: "One-time password", Nav: "admin", Data: oneTimeView{User: u, Password: pw, Created: true}})
}

// handleAdminUserPassword gives a user a new one-time password, as when
// they forgot theirs; their sessions end.
func (s *Server) handleAdminUserPassword(w http.ResponseWriter, r *http.Request) {
	u, err := s.Users.FindUserByUsername(r.Context(), r.PathValue("username"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pw := password.Generate(20)
	if err := s.Users.SetPassword(r.Context(), actor(r), u.Username, pw, true); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_onetime", view{Title: "One-time password", Nav: "admin", Data: oneTimeView{User: u, Password: pw}})
}

// newUserForm keeps what was typed into the add-user form when it is
// refused, so nothing needs typing again.
type newUserForm struct{ Username, Email, Name string }

// maxImportBytes bounds an uploaded user file (some 60,000 users), and
// maxImportPasswords the passwords in clear it may hold (at about 30
// argon2id hashes a second a core, some 17 s on one core), so that an
// upload ends within the server's write timeout; larger ones go through
// the lanyard command.
const (
	maxImportBytes     = 5 << 20
	maxImportPasswords = 500
)

// handleAdminUserImport imports users from an uploaded CSV file, all or
// none, as `lanyard user import` does. Imported users get the passwords of
// the file, or none (they cannot log in until an administrator gives them
// a one-time password).
func (s *Server) handleAdminUserImport(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxImportBytes+maxFormBytes)
	file, _, err := r.FormFile("file")
	if err != nil {
		s.importResult(w, r, http.StatusBadRequest, "", "Choose a CSV file of at most 5 MB to import.")
		return
	}
	defer file.Close()
	// The hashing runs within the request, on half the cores so that the
	// portal keeps answering; more passwords go through the lanyard
	// command, which also shows its progress.
	opt := userimport.Options{Workers: max(1, runtime.GOMAXPROCS(0)/2), MaxPasswords: maxImportPasswords}
	n, err := userimport.Import(r.Context(), s.Users, actor(r), file, opt)
	if code := lanyard.ErrorCode(err); code == lanyard.EINVALID || code == lanyard.ECONFLICT {
		s.importResult(w, r, http.StatusBadRequest, "", lanyard.ErrorMessage(err))
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	s.importResult(w, r, http.StatusOK, fmt.Sprintf("Imported %d users.", n), "")
}

// importResult shows the users page with the outcome of an import.
func (s *Server) importResult(w http.ResponseWriter, r *http.Request, status int, notice, errMsg string) {
	v, err := s.searchUsers(r, 500)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, "admin_users", view{Title: "Users", Nav: "admin", Notice: notice, Error: errMsg, Data: v})
}
