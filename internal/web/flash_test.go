package web_test

import (
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
)

var flashRE = regexp.MustCompile(`<p class="(notice|error)" role="(?:status|alert)">([^<]*)</p>`)

// followMessage follows the redirect resp of client c and returns the
// kind ("notice" or "error") and text of the message the page shows.
func (p *portal) followMessage(t *testing.T, c *http.Client, resp *http.Response) (kind, text string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	if strings.Contains(loc, "?") {
		t.Fatalf("redirect to %s carries a query", loc)
	}
	next, body := p.get(t, c, loc)
	wantStatus(t, next, body, http.StatusOK)
	m := flashRE.FindStringSubmatch(body)
	if m == nil {
		return "", ""
	}
	return m[1], html.UnescapeString(m[2])
}

// TestNoticesComeFromTheServer checks that no query parameter puts text on
// a page, and that a message set by an action shows on the next page once.
func TestNoticesComeFromTheServer(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "alice", lanyard.UserActive)
	p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	adm := p.loggedIn(t, "root")
	planted := "Your account is compromised. Call +1 555 0100 now."
	q := "?notice=" + url.QueryEscape(planted) + "&error=" + url.QueryEscape(planted) + "&warning=" + url.QueryEscape(planted)
	for _, path := range []string{"/", "/mobile-id", "/mobile-id/get", "/admin/users", "/operator/users/alice", "/admin/options/MobileIDSelfServiceProcGet",
		"/admin/directory"} {
		resp, body := p.get(t, adm, path+q)
		wantStatus(t, resp, body, http.StatusOK)
		if strings.Contains(body, "compromised") {
			t.Errorf("%s shows text from its query:\n%s", path, body)
		}
	}
	resp, _ := p.post(t, adm, "/admin/users/alice/state", url.Values{"state": {"inactive"}})
	if kind, text := p.followMessage(t, adm, resp); kind != "notice" || text != "alice is now inactive." {
		t.Fatalf("message after a state change: %s %q", kind, text)
	}
	// Shown once.
	resp, body := p.get(t, adm, "/admin/users")
	wantStatus(t, resp, body, http.StatusOK)
	if strings.Contains(body, "alice is now inactive.") {
		t.Fatal("the message shows a second time")
	}
}

// The pages of OpenID Connect take no text from their query either.
func TestApplicationPagesTakeNoNoticeFromTheQuery(t *testing.T) {
	o := newOIDCPortal(t, sqliteDSN(t))
	o.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	adm := o.loggedIn(t, "root")
	planted := "Your account is compromised. Call +1 555 0100 now."
	for _, path := range []string{"/applications", "/admin/applications"} {
		resp, body := o.get(t, adm, path+"?notice="+url.QueryEscape(planted))
		wantStatus(t, resp, body, http.StatusOK)
		if strings.Contains(body, "compromised") {
			t.Errorf("%s shows text from its query:\n%s", path, body)
		}
	}
}

// TestPlantedMessagesAreNotShown checks that a message cookie the server
// did not seal for the browser's own session shows nothing: one made up,
// and one another user's session received.
func TestPlantedMessagesAreNotShown(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "alice", lanyard.UserActive)
	p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	adm, alice := p.loggedIn(t, "root"), p.loggedIn(t, "alice")
	u, _ := url.Parse(p.URL)
	planted := base64.RawURLEncoding.EncodeToString([]byte(`{"Notice":"Your account is compromised."}`))
	alice.Jar.SetCookies(u, []*http.Cookie{{Name: "lanyard_flash", Value: planted + "." + planted}})
	if _, body := p.get(t, alice, "/mobile-id"); strings.Contains(body, "compromised") {
		t.Fatal("a made-up message cookie shows")
	}
	// The root's message, sealed for the root's session, moved to alice.
	resp, _ := p.post(t, adm, "/admin/users/alice/state", url.Values{"state": {"locked"}})
	wantStatus(t, resp, "", http.StatusSeeOther)
	var sealed *http.Cookie
	for _, c := range adm.Jar.Cookies(u) {
		if c.Name == "lanyard_flash" {
			sealed = c
		}
	}
	if sealed == nil {
		t.Fatal("no message cookie after an action")
	}
	p.addUser(t, "bob", lanyard.UserActive)
	bob := p.loggedIn(t, "bob")
	bob.Jar.SetCookies(u, []*http.Cookie{{Name: "lanyard_flash", Value: sealed.Value}})
	if _, body := p.get(t, bob, "/mobile-id"); strings.Contains(body, "alice is now locked") {
		t.Fatal("a message sealed for another session shows")
	}
	if _, body := p.get(t, adm, "/admin/users"); !strings.Contains(body, "alice is now locked") {
		t.Fatal("the message does not show for the session it was made for")
	}
}
