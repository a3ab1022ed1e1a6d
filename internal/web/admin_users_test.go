package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
)

var secretRE = regexp.MustCompile(`<code class="secret">([^<]+)</code>`)

func TestAdminAddsUserWithOneTimePassword(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	root := p.loggedIn(t, "root")
	form := url.Values{"username": {"carol"}, "email": {"carol@example.com"}, "name": {"Carol Example"}, "state": {"active"}, "role": {"operator"}}
	resp, body := p.post(t, root, "/admin/users", form)
	wantStatus(t, resp, body, http.StatusOK, "User created", "carol@example.com")
	m := secretRE.FindStringSubmatch(body)
	if m == nil || len(m[1]) != 20 {
		t.Fatalf("no one-time password shown:\n%s", body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("the page with the password may be cached")
	}
	p.noSecretOnDisk(t, m[1])
	carol := p.browser(t)
	resp, _ = p.login(t, carol, "carol", m[1])
	if resp.Header.Get("Location") != "/password" {
		t.Fatalf("carol's first login went to %q, want /password", resp.Header.Get("Location"))
	}
	if u, _ := p.users.FindUserByUsername(t.Context(), "carol"); !u.HasRole(lanyard.RoleOperator) || !u.MustChangePassword {
		t.Fatalf("carol: %+v", u)
	}

	// Refusals keep what was typed and change nothing.
	resp, body = p.post(t, root, "/admin/users", form)
	wantStatus(t, resp, body, http.StatusConflict, "exists already", `value="carol@example.com"`)
	bad := url.Values{"username": {"dave"}, "email": {"not-an-email"}, "name": {"Dave"}, "state": {"active"}}
	resp, body = p.post(t, root, "/admin/users", bad)
	wantStatus(t, resp, body, http.StatusBadRequest, "email address is not valid", `value="dave"`)
	if _, err := p.users.FindUserByUsername(t.Context(), "dave"); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		t.Fatal("a refused user was created")
	}

	// A new one-time password ends carol's sessions.
	resp, body = p.post(t, root, "/admin/users/carol/password", nil)
	wantStatus(t, resp, body, http.StatusOK, "New one-time password", "logged out everywhere")
	second := secretRE.FindStringSubmatch(body)[1]
	if second == m[1] {
		t.Fatal("the same password twice")
	}
	if resp, _ := p.get(t, carol, "/password"); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("carol's session survived the reset")
	}
	if resp, _ := p.login(t, p.browser(t), "carol", second); resp.Header.Get("Location") != "/password" {
		t.Fatal("the new one-time password does not work")
	}
	events, _ := p.db.FindAuditEvents(t.Context(), lanyard.AuditFilter{Subject: "carol"})
	for _, e := range events {
		if strings.Contains(e.Detail, m[1]) || strings.Contains(e.Detail, second) {
			t.Fatal("a password in the audit log")
		}
	}
}

func TestAddUserForAdminsOnly(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "olga", lanyard.UserActive, lanyard.RoleOperator)
	op := p.loggedIn(t, "olga")
	resp, body := p.post(t, op, "/admin/users", url.Values{"username": {"eve"}, "email": {"eve@example.com"}, "name": {"Eve"}, "role": {"admin"}})
	wantStatus(t, resp, body, http.StatusForbidden)
	resp, body = p.post(t, op, "/admin/users/olga/password", nil)
	wantStatus(t, resp, body, http.StatusForbidden)
	if _, err := p.users.FindUserByUsername(t.Context(), "eve"); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		t.Fatal("an operator created a user")
	}
}

// upload posts a CSV file to the import form, as a browser does.
func (p *portal) upload(t *testing.T, c *http.Client, csv string) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "users.csv")
	fw.Write([]byte(csv))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/admin/users/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", p.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return do(t, c, req)
}

func TestAdminImportsUsers(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	root := p.loggedIn(t, "root")
	header := "username,email,common_name,state,roles,password\n"
	resp, body := p.upload(t, root, header+"erin,erin@example.com,Erin Example,active,user;operator,erin's password\nfrank,frank@example.com,Frank,registered,user,\n")
	wantStatus(t, resp, body, http.StatusOK, "Imported 2 users.", "erin@example.com", "frank@example.com")
	if resp, _ := p.login(t, p.browser(t), "erin", "erin's password"); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("an imported user cannot log in")
	}
	resp, body = p.upload(t, root, header+"gina,gina@example.com,Gina,active,user,\nhank,not-an-email,Hank,active,user,\nerin,erin2@example.com,Erin Two,active,user,\n")
	wantStatus(t, resp, body, http.StatusBadRequest, "nothing imported", "line 3: The email address is not valid")
	if _, err := p.users.FindUserByUsername(t.Context(), "gina"); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		t.Fatal("a failed import created gina")
	}
	resp, body = p.upload(t, root, header+"ivan,ivan@example.com,Ivan,active,user,\nerin,erin2@example.com,Erin Two,active,user,\n")
	wantStatus(t, resp, body, http.StatusBadRequest, "line 3: A user named &#34;erin&#34; exists already")
	resp, body = p.upload(t, root, "not a csv header\n")
	wantStatus(t, resp, body, http.StatusBadRequest, "the header must be")
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/admin/users/import", strings.NewReader("x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.URL)
	resp, body = do(t, root, req)
	wantStatus(t, resp, body, http.StatusBadRequest, "Choose a CSV file")
}
