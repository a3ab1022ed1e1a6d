package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/lanyard-id/lanyard"
)

// TestLoginRedirectStaysOnSite checks that no next parameter, however
// written, sends a user off-site after login. Browsers strip tabs and
// newlines from a URL and read a backslash as a slash, so "/\t/evil" is
// "//evil" to them.
func TestLoginRedirectStaysOnSite(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "alice", lanyard.UserActive)
	cases := []struct{ next, want string }{
		{"/mobile-id", "/mobile-id"},
		{"/operator/users/bob?x=1", "/operator/users/bob?x=1"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/a\\..\\/evil.example", "/"},
		{"//evil.example", "/"},
		{"https://evil.example/", "/"},
		{"/ /evil.example", "/"},
		{"", "/"},
	}
	for _, tc := range cases {
		t.Run(url.QueryEscape(tc.next), func(t *testing.T) {
			resp, body := p.post(t, p.browser(t), "/login", url.Values{
				"username": {"alice"}, "password": {"password of alice"}, "next": {tc.next}})
			wantStatus(t, resp, body, http.StatusSeeOther)
			if got := resp.Header.Get("Location"); got != tc.want {
				t.Fatalf("next %q redirects to %q, want %q", tc.next, got, tc.want)
			}
		})
	}
}
