package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

func TestLoginDashboardLogout(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		p := newPortal(t, dsn)
		p.addUser(t, "alice", lanyard.UserActive)
		c := p.browser(t)

		resp, _ := p.get(t, c, "/")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Fatalf("anonymous dashboard: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body := p.login(t, c, "alice", "password of alice")
		wantStatus(t, resp, body, http.StatusSeeOther)
		cookie := resp.Cookies()[0]
		if cookie.Name != "lanyard_session" || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
			t.Fatalf("cookie %+v", cookie)
		}
		resp, body = p.get(t, c, "/")
		wantStatus(t, resp, body, http.StatusOK, "What do you want to do?", "Get Mobile ID", `href="/mobile-id"`, "Alice Example")
		if strings.Contains(body, `href="/admin"`) {
			t.Fatal("a user who is not admin sees the Admin menu")
		}
		resp, body = p.get(t, c, "/mobile-id")
		wantStatus(t, resp, body, http.StatusOK, "Mobile ID")

		resp, body = p.post(t, c, "/logout", nil)
		wantStatus(t, resp, body, http.StatusSeeOther)
		resp, _ = p.get(t, c, "/")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("dashboard after logout: %d", resp.StatusCode)
		}
		events, _ := p.db.FindAuditEvents(t.Context(), lanyard.AuditFilter{Subject: "alice"})
		var actions []string
		for _, e := range events {
			actions = append(actions, e.Action)
		}
		got := strings.Join(actions, " ")
		if !strings.Contains(got, "session.login") || !strings.Contains(got, "session.logout") {
			t.Fatalf("audit: %s", got)
		}
	})
}

func TestLoginRefusals(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "alice", lanyard.UserActive)
	p.addUser(t, "ivan", lanyard.UserInactive)
	p.addUser(t, "lola", lanyard.UserLocked)
	p.addUser(t, "reg", lanyard.UserRegistered)

	wrongResp, wrongBody := p.login(t, p.browser(t), "alice", "not the password")
	unknownResp, unknownBody := p.login(t, p.browser(t), "nobody", "not the password")
	wantStatus(t, wrongResp, wrongBody, http.StatusUnauthorized, "The username or password is wrong.")
	wantStatus(t, unknownResp, unknownBody, http.StatusUnauthorized, "The username or password is wrong.")

	cases := []struct{ user, reason string }{
		{"ivan", "Your account is inactive"},
		{"lola", "Your account is locked"},
		{"reg", "not yet active"},
	}
	for _, tc := range cases {
		t.Run(tc.user, func(t *testing.T) {
			resp, body := p.login(t, p.browser(t), tc.user, "password of "+tc.user)
			wantStatus(t, resp, body, http.StatusForbidden, tc.reason)
			if len(resp.Cookies()) != 0 {
				t.Fatalf("refused user got a cookie: %v", resp.Cookies())
			}
		})
	}
	t.Run("empty fields", func(t *testing.T) {
		resp, body := p.login(t, p.browser(t), "", "")
		wantStatus(t, resp, body, http.StatusBadRequest, "Enter your username and password.")
	})
}

func TestLoginRateLimit(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.sessions.Policy.UserFree = 3
	p.addUser(t, "alice", lanyard.UserActive)
	for range 3 {
		resp, body := p.login(t, p.browser(t), "alice", "guess")
		wantStatus(t, resp, body, http.StatusUnauthorized)
	}
	// Even the right password is refused while the limit holds.
	resp, body := p.login(t, p.browser(t), "alice", "password of alice")
	wantStatus(t, resp, body, http.StatusTooManyRequests, "Too many failed login attempts. Try again in")
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	if len(resp.Cookies()) != 0 {
		t.Fatal("a limited login set a cookie")
	}

	t.Run("per address", func(t *testing.T) {
		p := newPortal(t, sqliteDSN(t))
		p.sessions.Policy.AddrFree = 4
		p.addUser(t, "bob", lanyard.UserActive)
		for i := range 4 {
			resp, body := p.login(t, p.browser(t), "someone"+strconv.Itoa(i), "guess")
			wantStatus(t, resp, body, http.StatusUnauthorized)
		}
		resp, body := p.login(t, p.browser(t), "bob", "password of bob")
		wantStatus(t, resp, body, http.StatusTooManyRequests)
	})
}

func TestCrossOriginPostRefused(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "alice", lanyard.UserActive)
	p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	admin := p.loggedIn(t, "root")

	send := func(c *http.Client, path string, form url.Values) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, p.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		return do(t, c, req)
	}
	resp, body := send(p.browser(t), "/login", url.Values{"username": {"alice"}, "password": {"password of alice"}})
	wantStatus(t, resp, body, http.StatusForbidden, "came from another site")
	if len(resp.Cookies()) != 0 {
		t.Fatal("cross-origin login set a cookie")
	}
	resp, body = send(admin, "/admin/users/alice/state", url.Values{"state": {"locked"}})
	wantStatus(t, resp, body, http.StatusForbidden)
	if u, _ := p.users.FindUserByUsername(t.Context(), "alice"); u.State != lanyard.UserActive {
		t.Fatalf("cross-origin POST changed the state to %s", u.State)
	}
}

func TestSessionCookieForgedOrMissing(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "alice", lanyard.UserActive)
	for _, value := range []string{"", "forged", strings.Repeat("A", 4000), "'; DROP TABLE sessions; --"} {
		req, _ := http.NewRequest(http.MethodGet, p.URL+"/", nil)
		req.AddCookie(&http.Cookie{Name: "lanyard_session", Value: value})
		resp, body := do(t, p.browser(t), req)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Fatalf("cookie %.20q: %d %s", value, resp.StatusCode, body)
		}
	}
	resp, body := p.post(t, p.browser(t), "/password", url.Values{"current": {"x"}, "new": {"y"}, "repeat": {"y"}})
	wantStatus(t, resp, body, http.StatusUnauthorized, "log in")
}

func TestAdminOnlyForAdmins(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "alice", lanyard.UserActive, lanyard.RoleOperator)
	p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	alice := p.loggedIn(t, "alice")
	for _, path := range []string{"/admin", "/admin/users", "/admin/audit"} {
		resp, body := p.get(t, alice, path)
		wantStatus(t, resp, body, http.StatusForbidden, "admin role")
		resp, _ = p.get(t, p.browser(t), path)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("anonymous %s: %d", path, resp.StatusCode)
		}
	}
	resp, body := p.post(t, alice, "/admin/users/root/state", url.Values{"state": {"locked"}})
	wantStatus(t, resp, body, http.StatusForbidden)

	root := p.loggedIn(t, "root")
	resp, body = p.get(t, root, "/admin/users?q=ali")
	wantStatus(t, resp, body, http.StatusOK, "alice@example.com")
	resp, body = p.post(t, root, "/admin/users/alice/state", url.Values{"state": {"inactive"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	// alice's session ended with her deactivation.
	resp, _ = p.get(t, alice, "/")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("deactivated user still logged in: %d", resp.StatusCode)
	}
	resp, body = p.post(t, root, "/admin/users/root/roles", url.Values{"role": {"operator"}})
	wantStatus(t, resp, body, http.StatusBadRequest, "cannot take the admin role from yourself")
	resp, body = p.get(t, root, "/admin/audit")
	wantStatus(t, resp, body, http.StatusOK, "user.set_state", "active -&gt; inactive")
	resp, body = p.get(t, root, "/admin/audit?subject=root")
	wantStatus(t, resp, body, http.StatusOK, "session.login", `value="root"`)
	if strings.Contains(body, "active -&gt; inactive") {
		t.Fatal("the subject filter shows alice's events")
	}
}

func TestOneTimePasswordMustBeChanged(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	u := p.addUser(t, "admin", lanyard.UserActive, lanyard.RoleAdmin)
	if err := p.users.SetPassword(t.Context(), lanyard.SystemActor, u.Username, "one-time secret", true); err != nil {
		t.Fatal(err)
	}
	c := p.browser(t)
	resp, body := p.login(t, c, "admin", "one-time secret")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/password" {
		t.Fatalf("login: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	for _, path := range []string{"/", "/admin", "/mobile-id"} {
		resp, _ := p.get(t, c, path)
		if resp.Header.Get("Location") != "/password" {
			t.Fatalf("%s before the change: %d %s", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	cases := []struct {
		name                 string
		current, new, repeat string
		status               int
		msg                  string
	}{
		{"wrong current", "guess", "a brand new one", "a brand new one", http.StatusBadRequest, "current password is wrong"},
		{"mismatch", "one-time secret", "a brand new one", "a brand new two", http.StatusBadRequest, "do not match"},
		{"same", "one-time secret", "one-time secret", "one-time secret", http.StatusBadRequest, "must differ"},
		{"short", "one-time secret", "short", "short", http.StatusBadRequest, "at least 8"},
		{"ok", "one-time secret", "a brand new one", "a brand new one", http.StatusOK, "Your password has been changed."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := p.post(t, c, "/password", url.Values{"current": {tc.current}, "new": {tc.new}, "repeat": {tc.repeat}})
			wantStatus(t, resp, body, tc.status, tc.msg)
		})
	}
	resp, body = p.get(t, c, "/admin")
	wantStatus(t, resp, body, http.StatusOK, "Audit log")
}

func TestPasswordChangeGuessesAreLimitedAndEndOtherSessions(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.sessions.Policy.UserFree = 3
	p.addUser(t, "alice", lanyard.UserActive)
	here := p.loggedIn(t, "alice")
	for range 3 {
		resp, body := p.post(t, here, "/password", url.Values{"current": {"guess"}, "new": {"a new password"}, "repeat": {"a new password"}})
		wantStatus(t, resp, body, http.StatusBadRequest, "current password is wrong")
	}
	resp, body := p.post(t, here, "/password", url.Values{"current": {"password of alice"}, "new": {"a new password"}, "repeat": {"a new password"}})
	wantStatus(t, resp, body, http.StatusTooManyRequests, "Too many failed login attempts")

	q := newPortal(t, sqliteDSN(t))
	q.addUser(t, "bob", lanyard.UserActive)
	here, elsewhere := q.loggedIn(t, "bob"), q.loggedIn(t, "bob")
	resp, body = q.post(t, here, "/password", url.Values{"current": {"password of bob"}, "new": {"a new password"}, "repeat": {"a new password"}})
	wantStatus(t, resp, body, http.StatusOK, "Your password has been changed.")
	if resp, _ := q.get(t, here, "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session that changed the password ended: %d", resp.StatusCode)
	}
	if resp, _ := q.get(t, elsewhere, "/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("another session survived the password change: %d", resp.StatusCode)
	}
}
