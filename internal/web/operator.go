package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/mobileid"
)

// The Operator area: find users, see and lock their mobile IDs, change
// their state, and supply a mobile ID (MobileIDProcSupplyMobileIDForUser),
// whose QR code always goes to the user by email.

func (s *Server) handleOperator(w http.ResponseWriter, r *http.Request) {
	v, err := s.searchUsers(r, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "operator", view{Title: "Operator", Nav: "operator", Data: v})
}

// targetUser reads the form of an operator's POST and finds the user it is
// about; on failure it has answered already. Operators manage users, not
// administrators: every change to an administrator, to their state or to
// their mobile IDs, is for another administrator.
func (s *Server) targetUser(w http.ResponseWriter, r *http.Request) (*lanyard.User, bool) {
	if !s.parseForm(w, r, maxFormBytes) {
		return nil, false
	}
	target, err := s.Users.FindUserByUsername(r.Context(), r.PathValue("username"))
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	if target.HasRole(lanyard.RoleAdmin) && !currentUser(r).HasRole(lanyard.RoleAdmin) {
		s.renderError(w, r, http.StatusForbidden, "Only administrators change an administrator or their mobile IDs.")
		return nil, false
	}
	return target, true
}

type operatorUserView struct {
	Target    *lanyard.User
	MobileIDs []mobileid.View
	Supply    *mobileid.Intro // nil when the user cannot get a mobile ID now
	Refusal   string          // why not
	States    []lanyard.UserState
}

func (s *Server) handleOperatorUser(w http.ResponseWriter, r *http.Request) {
	target, err := s.Users.FindUserByUsername(r.Context(), r.PathValue("username"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	views, err := s.MobileIDs.Current(r.Context(), target.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := operatorUserView{Target: target, MobileIDs: views, States: lanyard.UserStates}
	v.Supply, err = s.MobileIDs.SupplyIntro(r.Context(), actor(r), target.ID)
	if code := lanyard.ErrorCode(err); code == lanyard.EUSERSTATE || code == lanyard.EINVALID {
		v.Refusal = lanyard.ErrorMessage(err)
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "operator_user", view{Title: target.CommonName, Nav: "operator", Data: v})
}

// backToUser redirects to the operator's page of a user with a message:
// an error if failed, else a notice.
func (s *Server) backToUser(w http.ResponseWriter, r *http.Request, username string, failed bool, msg string) {
	f := lanyard.Flash{Notice: msg}
	if failed {
		f = lanyard.Flash{Error: msg}
	}
	s.redirectFlash(w, r, "/operator/users/"+url.PathEscape(username), f)
}

func (s *Server) handleOperatorSupply(w http.ResponseWriter, r *http.Request) {
	target, ok := s.targetUser(w, r)
	if !ok {
		return
	}
	req := mobileid.SupplyRequest{LockExisting: r.PostForm.Get("lock") == "yes", RecoverSerials: r.PostForm["serial"]}
	a, err := s.MobileIDs.Supply(r.Context(), actor(r), target.ID, req)
	switch lanyard.ErrorCode(err) {
	case "":
		s.backToUser(w, r, target.Username, false, "A mobile ID was supplied: the QR code was sent to "+target.Email+
			"; it expires at "+a.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")+".")
	case lanyard.EINVALID, lanyard.ECONFLICT, lanyard.EUSERSTATE:
		s.backToUser(w, r, target.Username, true, lanyard.ErrorMessage(err))
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) handleOperatorState(w http.ResponseWriter, r *http.Request) {
	target, ok := s.targetUser(w, r)
	if !ok {
		return
	}
	u, err := s.MobileIDs.SetUserState(r.Context(), actor(r), target.Username, lanyard.UserState(r.PostForm.Get("state")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.backToUser(w, r, u.Username, false, u.Username+" is now "+string(u.State)+".")
}

func (s *Server) handleOperatorLock(w http.ResponseWriter, r *http.Request) {
	s.operatorMobileIDAction(w, r, s.MobileIDs.Lock, "The mobile ID is locked and its certificates are revoked.")
}

func (s *Server) handleOperatorDelete(w http.ResponseWriter, r *http.Request) {
	s.operatorMobileIDAction(w, r, s.MobileIDs.Delete, "The mobile ID is deleted; its certificates are revoked.")
}

// operatorMobileIDAction runs act on a mobile ID of the user named in the
// path, refusing one that is not theirs.
func (s *Server) operatorMobileIDAction(w http.ResponseWriter, r *http.Request,
	act func(ctx context.Context, actor lanyard.Actor, userID int64, publicID string) error, done string) {
	target, ok := s.targetUser(w, r)
	if !ok {
		return
	}
	// act refuses a mobile ID that is not the target's, as ENOTFOUND.
	if err := act(r.Context(), actor(r), target.ID, r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.backToUser(w, r, target.Username, false, done)
}
