package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/options"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

const getProcess = "MobileIDSelfServiceProcGet"

func TestAdminOptions(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		p := newPortal(t, dsn)
		p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
		p.addUser(t, "alice", lanyard.UserActive)
		root := p.loggedIn(t, "root")
		path := "/admin/options/" + getProcess

		resp, body := p.get(t, root, "/admin/options")
		wantStatus(t, resp, body, http.StatusOK, getProcess, "MobileIDExpiring")
		resp, body = p.get(t, root, path)
		wantStatus(t, resp, body, http.StatusOK, "show_qr_code = True", "Validate", "Dry run", "Save", "(version 1)")

		edit := func(action, source, user string) (*http.Response, string) {
			return p.post(t, root, path, url.Values{"action": {action}, "source": {source}, "user": {user}})
		}
		typo := strings.Replace(options.DefaultGetScript, "show_qr_code = True", "show_qr_cod = True", 1)
		resp, body = edit("validate", typo, "")
		wantStatus(t, resp, body, http.StatusBadRequest, "did you mean show_qr_code?", "show_qr_cod = True")

		noQR := strings.ReplaceAll(strings.Replace(options.DefaultGetScript, "show_qr_code = True", "show_qr_code = False", 1), "\n", "\r\n")
		resp, body = edit("validate", noQR, "")
		wantStatus(t, resp, body, http.StatusOK, "The script is valid.", "your edit, not saved; the current version is 1")
		resp, body = edit("dryrun", noQR, "alice")
		wantStatus(t, resp, body, http.StatusOK, "Dry run for alice", "MobileID Alice Example", "alice@example.com")
		resp, body = edit("dryrun", noQR, "nobody")
		wantStatus(t, resp, body, http.StatusNotFound, "No such user")
		resp, body = edit("save", typo, "")
		wantStatus(t, resp, body, http.StatusBadRequest, "did you mean show_qr_code?")

		resp, body = edit("save", noQR, "alice")
		wantStatus(t, resp, body, http.StatusSeeOther)
		resp, body = p.get(t, root, resp.Header.Get("Location"))
		wantStatus(t, resp, body, http.StatusOK, "Saved version 2", "show_qr_code = False", "Restore version 1")
		cur, _ := p.db.CurrentScript(t.Context(), getProcess)
		if cur.Version != 2 || strings.Contains(cur.Source, "\r") {
			t.Fatalf("saved version %d with CR: %t", cur.Version, strings.Contains(cur.Source, "\r"))
		}

		resp, body = p.post(t, root, path+"/restore", url.Values{"version": {"1"}})
		wantStatus(t, resp, body, http.StatusSeeOther)
		cur, _ = p.db.CurrentScript(t.Context(), getProcess)
		if cur.Version != 3 || cur.Source != options.DefaultGetScript {
			t.Fatalf("after restore: version %d", cur.Version)
		}
		resp, body = p.post(t, root, path+"/restore", url.Values{"version": {"99"}})
		wantStatus(t, resp, body, http.StatusNotFound)

		resp, body = p.get(t, root, "/admin/audit?action=options.save")
		wantStatus(t, resp, body, http.StatusOK, "- show_qr_code = True", "&#43; show_qr_code = False", "- show_qr_code = False", "&#43; show_qr_code = True")

		resp, body = p.get(t, root, "/admin/options/NoSuchProcess")
		wantStatus(t, resp, body, http.StatusNotFound, "There is no process")
	})
}

func TestAdminOptionsForbiddenToOthers(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "alice", lanyard.UserActive, lanyard.RoleOperator)
	alice := p.loggedIn(t, "alice")
	path := "/admin/options/" + getProcess
	for _, tc := range []struct{ method, path string }{
		{"GET", "/admin/outbox"}, {"GET", "/admin/options"}, {"GET", path}, {"POST", path}, {"POST", path + "/restore"},
	} {
		var resp *http.Response
		var body string
		if tc.method == "GET" {
			resp, body = p.get(t, alice, tc.path)
		} else {
			resp, body = p.post(t, alice, tc.path, url.Values{"action": {"save"}, "source": {"x = 1"}, "version": {"1"}})
		}
		wantStatus(t, resp, body, http.StatusForbidden)
	}
	if cur, _ := p.db.CurrentScript(t.Context(), getProcess); cur.Version != 1 {
		t.Fatalf("a non-admin changed the script to version %d", cur.Version)
	}
}

// TestOptionsTriedOnRealUsers: a script that exceeds its memory only for
// one real user passes with the sample user, and is refused all the same,
// naming that user; the version in force stays.
func TestOptionsTriedOnRealUsers(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	p.addUser(t, "bob", lanyard.UserActive)
	root := p.loggedIn(t, "root")
	hungry := strings.Replace(options.DefaultGetScript, "validity_years = 2",
		"_x = [None] * (1 << 29) if user.username == \"bob\" else None\nvalidity_years = 2", 1)
	resp, body := p.post(t, root, "/admin/options/"+getProcess, url.Values{"action": {"validate"}, "source": {hungry}})
	wantStatus(t, resp, body, http.StatusOK, "The script is valid.")
	resp, body = p.post(t, root, "/admin/options/"+getProcess, url.Values{"action": {"save"}, "source": {hungry}})
	wantStatus(t, resp, body, http.StatusBadRequest, "a list may have at most", "for user &#34;bob&#34;")
	if cur, _ := p.db.CurrentScript(t.Context(), getProcess); cur.Version != 1 {
		t.Fatalf("the script was saved as version %d", cur.Version)
	}
}
