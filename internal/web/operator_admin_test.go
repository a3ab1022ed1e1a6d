package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/lanyard-id/lanyard"
)

// TestOperatorsLeaveAdministratorsAlone checks that an operator can neither
// change the state of an administrator nor supply, lock or delete an
// administrator's mobile IDs, while another administrator can.
func TestOperatorsLeaveAdministratorsAlone(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	root := p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	p.addUser(t, "olga", lanyard.UserActive, lanyard.RoleOperator)
	p.addUser(t, "ada", lanyard.UserActive, lanyard.RoleAdmin)
	p.startGet(t, p.loggedIn(t, "root"), nil)
	ms, err := p.db.FindMobileIDs(t.Context(), root.ID, 10)
	if err != nil || len(ms) != 1 {
		t.Fatalf("root's mobile IDs: %v, %v", ms, err)
	}
	id := ms[0].PublicID

	op := p.loggedIn(t, "olga")
	resp, body := p.get(t, op, "/operator/users/root")
	wantStatus(t, resp, body, http.StatusOK)
	for _, path := range []string{
		"/operator/users/root/supply",
		"/operator/users/root/state",
		"/operator/users/ROOT/state",
		"/operator/users/root/mobile-ids/" + id + "/lock",
		"/operator/users/root/mobile-ids/" + id + "/delete",
	} {
		resp, body := p.post(t, op, path, url.Values{"state": {"locked"}})
		wantStatus(t, resp, body, http.StatusForbidden, "Only administrators")
	}
	after, _ := p.db.FindMobileIDs(t.Context(), root.ID, 10)
	if len(after) != 1 || after[0].State != ms[0].State {
		t.Fatalf("an operator changed an administrator's mobile IDs: %+v", after)
	}
	if u, _ := p.users.FindUserByUsername(t.Context(), "root"); u.State != lanyard.UserActive {
		t.Fatalf("an operator changed an administrator's state to %s", u.State)
	}

	adm := p.loggedIn(t, "ada")
	resp, body = p.post(t, adm, "/operator/users/root/mobile-ids/"+id+"/lock", nil)
	wantStatus(t, resp, body, http.StatusSeeOther)
}

// TestAdminCannotDemoteThemself checks the guard against taking the admin
// role from oneself however the username in the path is written.
func TestAdminCannotDemoteThemself(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	c := p.loggedIn(t, "root")
	for _, name := range []string{"root", "ROOT", "Root", url.PathEscape(" root")} {
		resp, body := p.post(t, c, "/admin/users/"+name+"/roles", url.Values{"role": {"operator"}})
		wantStatus(t, resp, body, http.StatusBadRequest, "cannot take the admin role from yourself")
		if u, _ := p.users.FindUserByUsername(t.Context(), "root"); !u.HasRole(lanyard.RoleAdmin) {
			t.Fatalf("/admin/users/%s/roles took the admin role from the administrator", name)
		}
	}
}
