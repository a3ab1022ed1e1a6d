package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// fuzzRoutes are the handlers that read input, each with the method it
// is called with; {u} is a user's name and {id} an opaque ID from input.
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/login"},
	{"GET", "/login"},
	{"POST", "/password"},
	{"POST", "/mobile-id/get"},
	{"GET", "/mobile-id/get/{id}"},
	{"POST", "/mobile-id/get/{id}/recovery"},
	{"POST", "/mobile-id/get/{id}/finish"},
	{"POST", "/mobile-id/{id}/lock"},
	{"GET", "/operator"},
	{"GET", "/operator/users/{u}"},
	{"POST", "/operator/users/{u}/supply"},
	{"POST", "/operator/users/{u}/state"},
	{"POST", "/operator/users/{u}/mobile-ids/{id}/lock"},
	{"GET", "/admin/users"},
	{"POST", "/admin/users"},
	{"POST", "/admin/users/{u}/state"},
	{"POST", "/admin/users/{u}/roles"},
	{"POST", "/admin/users/{u}/unlock"},
	{"GET", "/admin/audit"},
	{"GET", "/admin/audit/export.csv"},
	{"POST", "/admin/options/MobileIDSelfServiceProcGet"},
	{"GET", "/pki/ocsp/{id}"},
	{"POST", "/pki/ocsp"},
	{"POST", "/app/v1/enroll"},
	{"GET", "/app/v1/enroll"},
}

// FuzzHandlers sends input of every kind to the handlers that read it, as
// a logged-in administrator: no answer may be a server error.
func FuzzHandlers(f *testing.F) {
	p := newPortal(f, testenv.DSN(f, "sqlite"))
	u := &lanyard.User{Username: "root", Email: "root@example.com", CommonName: "Root", State: lanyard.UserActive, Roles: []lanyard.Role{lanyard.RoleAdmin}}
	if err := p.users.CreateUser(context.Background(), lanyard.CLIActor, u, "password of root"); err != nil {
		f.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	login, _ := http.NewRequest(http.MethodPost, p.URL+"/login", strings.NewReader("username=root&password=password+of+root"))
	login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	login.Header.Set("Origin", p.URL)
	if resp, err := c.Do(login); err != nil || resp.StatusCode != http.StatusSeeOther {
		f.Fatalf("log in: %v %v", resp, err)
	}
	f.Add(uint8(0), "root", "x", "username=root&password=wrong")
	f.Add(uint8(11), "alice", "abc", "state=locked")
	f.Add(uint8(16), "root", "", "role=admin&role=operator")
	f.Add(uint8(20), "", "", "action=save&source=validity_years+%3D+%5B%5D")
	f.Add(uint8(21), "", "MEowSDBGMEQw//AB+x", "")
	f.Add(uint8(23), "", "", `{"code":"x","csr":"%%%"}`)
	f.Add(uint8(18), "", "", "actor=%00&from=9999-99-99T99:99&before=-1")
	f.Fuzz(func(t *testing.T, route uint8, user, id, body string) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := strings.NewReplacer("{u}", url.PathEscape(user), "{id}", url.PathEscape(id)).Replace(r.path)
		target := p.URL + path
		var req *http.Request
		var err error
		if r.method == http.MethodGet {
			req, err = http.NewRequest(r.method, target+"?"+body, nil)
		} else {
			req, err = http.NewRequest(r.method, target, strings.NewReader(body))
		}
		if err != nil {
			return // not a request a client could send
		}
		if r.method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if strings.HasPrefix(path, "/app/") {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Origin", p.URL)
		}
		resp, err := c.Do(req)
		if err != nil {
			return
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%s %s with %q: status %d", r.method, path, body, resp.StatusCode)
		}
	})
}
