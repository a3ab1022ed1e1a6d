package web_test

import (
	"net/http"
	"testing"

	"github.com/lanyard-id/lanyard"
)

// TestAdminDirectoryWithoutDirectory: the page is for administrators, and
// without --ldap-url it says how to configure one; Sync now finds nothing.
func TestAdminDirectoryWithoutDirectory(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	p.addUser(t, "op", lanyard.UserActive, lanyard.RoleOperator)

	resp, body := p.get(t, p.loggedIn(t, "op"), "/admin/directory")
	wantStatus(t, resp, body, http.StatusForbidden)

	admin := p.loggedIn(t, "root")
	resp, body = p.get(t, admin, "/admin/directory")
	wantStatus(t, resp, body, http.StatusOK, "No LDAP directory is configured", "--ldap-url")
	resp, body = p.get(t, admin, "/admin")
	wantStatus(t, resp, body, http.StatusOK, `href="/admin/directory"`)
	resp, body = p.post(t, admin, "/admin/directory/sync", nil)
	wantStatus(t, resp, body, http.StatusNotFound, "No directory is configured.")
	resp, body = p.get(t, admin, "/readyz")
	wantStatus(t, resp, body, http.StatusOK)
	if body != "ready\n" {
		t.Fatalf("/readyz without a directory: %q", body)
	}
}
