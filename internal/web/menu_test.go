package web_test

import (
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/lanyard-id/lanyard"
)

// TestMenu: the main menu has the entries of the user's roles, and marks
// the entry of the page shown as the current one, and no other.
func TestMenu(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "alice", lanyard.UserActive)
	p.addUser(t, "olga", lanyard.UserActive, lanyard.RoleOperator)
	p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	entry := regexp.MustCompile(`<li><a href="([^"]*)" ?(aria-current="page")?>`)
	tests := []struct {
		user, path string
		entries    []string
		current    string
	}{
		{"alice", "/", []string{"/", "/mobile-id", "/applications"}, "/"},
		{"alice", "/mobile-id", []string{"/", "/mobile-id", "/applications"}, "/mobile-id"},
		{"alice", "/password", []string{"/", "/mobile-id", "/applications"}, ""},
		{"olga", "/operator", []string{"/", "/mobile-id", "/applications", "/operator"}, "/operator"},
		{"root", "/admin", []string{"/", "/mobile-id", "/applications", "/operator", "/admin"}, "/admin"},
		{"root", "/", []string{"/", "/mobile-id", "/applications", "/operator", "/admin"}, "/"},
	}
	for _, tt := range tests {
		t.Run(tt.user+tt.path, func(t *testing.T) {
			resp, body := p.get(t, p.loggedIn(t, tt.user), tt.path)
			wantStatus(t, resp, body, http.StatusOK)
			var entries []string
			current := ""
			for _, m := range entry.FindAllStringSubmatch(body, -1) {
				entries = append(entries, m[1])
				if m[2] != "" {
					if current != "" {
						t.Errorf("both %s and %s are current", current, m[1])
					}
					current = m[1]
				}
			}
			if !slices.Equal(entries, tt.entries) || current != tt.current {
				t.Errorf("menu %v with %q current, want %v with %q", entries, current, tt.entries, tt.current)
			}
		})
	}
}
