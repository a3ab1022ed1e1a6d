package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
)

// TestDatabaseDownIs503 takes the database away from a running portal:
// pages and the app API answer 503 with Retry-After and say to try again,
// instead of a 500, so that users, apps and load balancers retry.
func TestDatabaseDownIs503(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "alice", lanyard.UserActive)
	alice := p.loggedIn(t, "alice")
	p.db.Close()

	resp, body := p.get(t, alice, "/")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "try again") {
		t.Fatalf("dashboard without a database: %d, Retry-After %q:\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/app/v1/enroll", strings.NewReader(
		`{"code":"ABCDEFGHIJKLMNOPQRSTUVWXYZ","device_name":"phone","transport_key":"`+strings.Repeat("A", 43)+`=","csrs":{}}`))
	req.Header.Set("Content-Type", "application/json")
	resp, body = do(t, http.DefaultClient, req)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"unavailable"`) {
		t.Fatalf("enroll without a database: %d\n%s", resp.StatusCode, body)
	}
}
