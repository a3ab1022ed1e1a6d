package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// hostile are values every form field must survive: SQL metacharacters,
// markup, control characters, invalid UTF-8 and 10 kB strings.
var hostile = map[string]string{
	"sql":      `' OR '1'='1'; DROP TABLE users; --`,
	"quote":    `"; DELETE FROM sessions; --`,
	"markup":   `<script>alert(1)</script>`,
	"control":  "a\x00b\r\nc",
	"badutf8":  "\xff\xfe\xfd",
	"10kB":     strings.Repeat("x", 10<<10),
	"10kB-sql": strings.Repeat("';--", 10<<10/4),
}

func TestHostileFormInput(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		p := newPortal(t, dsn)
		p.addUser(t, "alice", lanyard.UserActive)
		p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
		before := snapshot(t, p)
		alice := p.loggedIn(t, "alice")
		root := p.loggedIn(t, "root")

		type form struct {
			client *http.Client
			method string
			path   string
			fields []string
		}
		forms := []form{
			{p.browser(t), "POST", "/login", []string{"username", "password", "next"}},
			{alice, "POST", "/password", []string{"current", "new", "repeat"}},
			{root, "POST", "/admin/users/alice/state", []string{"state"}},
			{root, "POST", "/admin/users/alice/roles", []string{"role"}},
			{root, "GET", "/admin/users", []string{"q", "state"}},
			{root, "GET", "/admin/audit", []string{"action", "subject", "before"}},
			{p.browser(t), "GET", "/login", []string{"next"}},
			{root, "GET", "/operator", []string{"q", "state"}},
			{root, "POST", "/admin/users", []string{"username", "email", "name", "state", "role"}},
			{root, "POST", "/operator/users/alice/state", []string{"state"}},
			{root, "POST", "/operator/users/alice/supply", []string{"serial"}},
			{alice, "POST", "/mobile-id/get", []string{"action", "usage"}},
			{alice, "POST", "/mobile-id/" + hostile["sql"] + "/lock", []string{"x"}},
		}
		for _, f := range forms {
			for _, field := range f.fields {
				for name, value := range hostile {
					t.Run(f.path+"/"+field+"/"+name, func(t *testing.T) {
						vals := url.Values{field: {value}}
						var resp *http.Response
						var body string
						if f.method == "POST" {
							resp, body = p.post(t, f.client, f.path, vals)
						} else {
							resp, body = p.get(t, f.client, f.path+"?"+vals.Encode())
						}
						if resp.StatusCode >= 500 {
							t.Fatalf("status %d:\n%.500s", resp.StatusCode, body)
						}
						if strings.Contains(body, "<script>alert") {
							t.Fatal("markup echoed unescaped")
						}
						if strings.Contains(body, "goroutine ") || strings.Contains(body, "SQLSTATE") || strings.Contains(body, "sqlite") {
							t.Fatalf("internal detail in the page:\n%.500s", body)
						}
					})
				}
			}
		}
		for name, value := range hostile {
			t.Run("/login/both/"+name, func(t *testing.T) {
				resp, body := p.login(t, p.browser(t), value, value)
				wantStatus(t, resp, body, http.StatusUnauthorized, "The username or password is wrong.")
			})
		}
		if strings.Contains(p.log.String(), "level=ERROR") {
			t.Fatalf("hostile input logged errors:\n%s", p.log.String())
		}
		// A role form with no admin for root and the state forms are
		// refused; nothing about the users may have changed.
		if after := snapshot(t, p); after != before {
			t.Fatalf("users changed:\nbefore %s\nafter  %s", before, after)
		}
	})
}

// snapshot renders what hostile input must not change: every user's
// username, email, name, state and roles.
func snapshot(t *testing.T, p *portal) string {
	t.Helper()
	users, err := p.users.FindUsers(t.Context(), lanyard.UserFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, u := range users {
		b.WriteString(u.Username + "|" + u.Email + "|" + u.CommonName + "|" + string(u.State) + "|")
		for _, r := range u.Roles {
			b.WriteString(string(r) + ",")
		}
		b.WriteString(";")
	}
	return b.String()
}
