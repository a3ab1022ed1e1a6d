package e2e_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserLoginDashboardLogout walks a user through Self-Service in a
// real browser: log in, the dashboard, the Mobile ID page, log out.
func TestBrowserLoginDashboardLogout(t *testing.T) {
	in := newInstance(t, "sqlite")
	s := startServer(t, in)
	s.waitReady()
	pw := "alice-" + randomText()
	addUser(t, in, "alice", pw)
	b := newBrowser(t, s.url)

	b.open("/login")
	b.waitHeading("Log in to Self-Service")
	b.screenshot("login")

	if status := b.fillLogin("alice", pw); status != 200 {
		t.Fatalf("login led to a page with status %d, want 200", status)
	}
	b.waitHeading("What do you want to do?")
	if p := b.path(); p != "/" {
		t.Errorf("after login the browser is at %s, want /", p)
	}
	b.do("find Get Mobile ID and the Mobile ID menu entry",
		chromedp.WaitVisible(chromedp.Search(xpathText("//main//a", "Get Mobile ID"))),
		chromedp.WaitVisible(chromedp.Search(xpathText(`//nav[@aria-label="Main menu"]//a`, "Mobile ID"))),
	)
	if got := b.text(chromedp.Search(`//main//p[@class="lead"]`)); !strings.Contains(got, "Alice Example") {
		t.Errorf("the dashboard greets %q, want the user's name Alice Example", got)
	}
	ck := b.sessionCookie()
	if ck == nil || !ck.HTTPOnly {
		t.Errorf("after login the session cookie is %+v, want an HttpOnly %s cookie", ck, sessionCookieName)
	}
	b.screenshot("dashboard")

	menu := chromedp.Search(xpathText(`//nav[@aria-label="Main menu"]//a`, "Mobile ID"))
	if status := b.submit("open Mobile ID from the menu", menu); status != 200 {
		t.Errorf("the Mobile ID page has status %d, want 200", status)
	}
	b.waitHeading("Mobile ID")
	if p := b.path(); p != "/mobile-id" {
		t.Errorf("the Mobile ID menu entry led to %s, want /mobile-id", p)
	}
	current := step(b, "read the current menu entry", chromedp.AttributeValue(menu, "aria-current"))
	if !current.Exists || current.Value != "page" {
		t.Errorf("on the Mobile ID page its menu entry has aria-current %+v, want page", current)
	}
	b.screenshot("mobile-id")

	b.submit("log out", chromedp.Search(xpathText(`//form[@action="/logout"]//button`, "Log out")))
	b.waitHeading("Log in to Self-Service")
	if p := b.path(); p != "/login" {
		t.Errorf("after logout the browser is at %s, want /login", p)
	}
	if ck := b.sessionCookie(); ck != nil {
		t.Errorf("after logout the browser still has the cookie %s", ck.Name)
	}
	b.screenshot("logged-out")

	// The dashboard is out of reach again.
	b.open("/")
	b.waitHeading("Log in to Self-Service")
	if p := b.path(); !strings.HasPrefix(p, "/login") {
		t.Errorf("the dashboard after logout shows %s, want the login page", p)
	}
}

// TestBrowserInactiveUserRefused logs in as users who are not active: each
// is told why, and gets no login session.
func TestBrowserInactiveUserRefused(t *testing.T) {
	in := newInstance(t, "sqlite")
	s := startServer(t, in)
	s.waitReady()
	b := newBrowser(t, s.url)
	tests := []struct {
		name    string
		setup   func(t *testing.T, username, pw string)
		message string
	}{
		{
			name:    "created inactive",
			setup:   func(t *testing.T, u, pw string) { addUser(t, in, u, pw, "--state", "inactive") },
			message: "Your account is inactive",
		},
		{
			name: "deactivated later",
			setup: func(t *testing.T, u, pw string) {
				addUser(t, in, u, pw)
				mustLanyard(t, append([]string{"user", "set-state", u, "inactive"}, in.args()...)...)
			},
			message: "Your account is inactive",
		},
		{
			name:    "locked",
			setup:   func(t *testing.T, u, pw string) { addUser(t, in, u, pw, "--state", "locked") },
			message: "Your account is locked",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The browser is shared; its failures belong to the case.
			b.t = t
			username := fmt.Sprintf("user%d", i+1)
			pw := username + "-" + randomText()
			tt.setup(t, username, pw)

			b.open("/login")
			if status := b.fillLogin(username, pw); status != 403 {
				t.Errorf("login of a refused user answered %d, want 403", status)
			}
			if p := b.path(); p != "/login" {
				t.Errorf("after a refused login the browser is at %s, want /login", p)
			}
			if ck := b.sessionCookie(); ck != nil {
				t.Errorf("a refused login set the cookie %s", ck.Name)
			}
			msg := b.text(chromedp.Search(`//main//p[@role="alert"]`))
			if !strings.Contains(msg, tt.message) {
				t.Errorf("the refusal says %q, want it to say %q", msg, tt.message)
			}
			b.screenshot("refused-" + strings.ReplaceAll(tt.name, " ", "-"))
		})
	}
}

// TestBrowserAdminFirstLogin is the administrator's first visit: log in
// with the printed one-time password, be made to change it, then read
// Admin › Users and Admin › Audit.
func TestBrowserAdminFirstLogin(t *testing.T) {
	in := newInstance(t, "sqlite")
	s := startServer(t, in)
	s.waitReady()
	if !waitFor(readyTimeout, func() bool { return len(adminPasswordLines(s.stdout.String())) > 0 }) {
		t.Fatalf("no admin password line on stdout: %q", s.stdout)
	}
	otp := adminPassword(t, s.stdout.String())
	addUser(t, in, "alice", "alice-"+randomText())
	b := newBrowser(t, s.url)

	b.open("/login")
	b.fillLogin("admin", otp)
	b.waitHeading("Change password")
	if p := b.path(); p != "/password" {
		t.Errorf("the first login led to %s, want /password", p)
	}
	if got := b.text(chromedp.Search(`//main//p[@class="warning"]`)); !strings.Contains(got, "one-time") {
		t.Errorf("the password page says %q, want it to say the password is one-time", got)
	}
	b.screenshot("must-change-password")

	// Every page leads back to the password form until it is done.
	for _, p := range []string{"/", "/admin", "/admin/users"} {
		b.open(p)
		b.waitHeading("Change password")
		if got := b.path(); got != "/password" {
			t.Errorf("%s with a one-time password shows %s, want /password", p, got)
		}
	}

	newPW := "admin-" + randomText()
	b.do("fill in the password form",
		chromedp.SendKeys(chromedp.ID("current"), otp),
		chromedp.SendKeys(chromedp.ID("new"), newPW),
		chromedp.SendKeys(chromedp.ID("repeat"), newPW),
	)
	if status := b.submit("change the password", chromedp.Search(`//form[@action="/password"]//button[@type="submit"]`)); status != 200 {
		t.Errorf("changing the password answered %d, want 200", status)
	}
	if got := b.text(chromedp.Search(`//main//p[@role="status"]`)); !strings.Contains(got, "Your password has been changed.") {
		t.Errorf("after the change the page says %q, want \"Your password has been changed.\"", got)
	}
	b.screenshot("password-changed")

	b.submit("open Admin from the menu", chromedp.Search(xpathText(`//nav[@aria-label="Main menu"]//a`, "Admin")))
	b.waitHeading("Admin")
	b.screenshot("admin")

	b.submit("open Admin › Users", chromedp.Search(`//main//a[@href="/admin/users"]`))
	b.waitHeading("Users")
	users := b.text(chromedp.Search(`//main//table`))
	for _, want := range []string{"admin", "alice", "Alice Example", "alice@example.com"} {
		if !strings.Contains(users, want) {
			t.Errorf("Admin › Users does not show %q:\n%s", want, users)
		}
	}
	b.screenshot("admin-users")

	b.open("/admin")
	b.submit("open Admin › Audit log", chromedp.Search(`//main//a[@href="/admin/audit"]`))
	b.waitHeading("Audit log")
	for _, action := range []string{"session.login", "user.set_password"} {
		row := b.text(chromedp.Search(fmt.Sprintf(`//main//tr[td/code[normalize-space()=%q]]`, action)))
		if !strings.Contains(row, "admin") {
			t.Errorf("the %s event names no admin: %q", action, row)
		}
	}
	b.screenshot("admin-audit")
}
