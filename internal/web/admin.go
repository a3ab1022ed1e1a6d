package web

import (
	"net/http"
	"slices"

	"github.com/lanyard-id/lanyard"
)

func (s *Server) handleAdmin(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "admin", view{Title: "Admin", Nav: "admin"})
}

type adminUsersView struct {
	Query  string
	State  string
	Users  []*lanyard.User
	States []lanyard.UserState
	Roles  []lanyard.Role
	New    newUserForm
	// Locks are the listed users whose password login is locked.
	Locks map[string]lanyard.LoginLock
}

// searchUsers runs the user search of the Admin and Operator pages from
// the query's q and state.
func (s *Server) searchUsers(r *http.Request, limit int) (adminUsersView, error) {
	q := r.URL.Query()
	v := adminUsersView{Query: truncate(q.Get("q"), 200), State: q.Get("state"), States: lanyard.UserStates, Roles: lanyard.Roles}
	f := lanyard.UserFilter{Query: v.Query, Limit: limit}
	if st := lanyard.UserState(v.State); st.Valid() {
		f.State = st
	}
	var err error
	v.Users, err = s.Users.FindUsers(r.Context(), f)
	return v, err
}

func (s *Server) handleAdminUsers(w http.ResponseWriter, r *http.Request) {
	v, err := s.searchUsers(r, 500)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := make([]string, len(v.Users))
	for i, u := range v.Users {
		names[i] = u.Username
	}
	if v.Locks, err = s.Throttle.FindLoginLocks(r.Context(), names); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_users", view{Title: "Users", Nav: "admin", Data: v})
}

func (s *Server) handleAdminUserState(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, maxFormBytes) {
		return
	}
	u, err := s.MobileIDs.SetUserState(r.Context(), actor(r), r.PathValue("username"), lanyard.UserState(r.PostForm.Get("state")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirectNotice(w, r, "/admin/users", u.Username+" is now "+string(u.State)+".")
}

func (s *Server) handleAdminUserRoles(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, maxFormBytes) {
		return
	}
	var roles []lanyard.Role
	for _, role := range r.PostForm["role"] {
		roles = append(roles, lanyard.Role(role))
	}
	// The path is compared as the user it names, not as text: "ROOT" and
	// "root" are one user.
	target, err := s.Users.FindUserByUsername(r.Context(), r.PathValue("username"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if target.ID == currentUser(r).ID && !slices.Contains(roles, lanyard.RoleAdmin) {
		s.renderError(w, r, http.StatusBadRequest, "You cannot take the admin role from yourself; ask another administrator.")
		return
	}
	u, err := s.Users.SetUserRoles(r.Context(), actor(r), target.Username, roles)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirectNotice(w, r, "/admin/users", "The roles of "+u.Username+" were saved.")
}

// handleAdminUserUnlock lifts the lock that too many failed logins in a row
// put on a user's password login.
func (s *Server) handleAdminUserUnlock(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, maxFormBytes) {
		return
	}
	u, err := s.Users.FindUserByUsername(r.Context(), r.PathValue("username"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Throttle.LiftLoginLock(r.Context(), actor(r), u.Username); err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirectNotice(w, r, "/admin/users", "The login lock of "+u.Username+" is lifted.")
}
