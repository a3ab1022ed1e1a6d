package web_test

import (
	"net/http"
	"testing"

	"github.com/lanyard-id/lanyard"
)

func TestMetricsAndHealth(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "alice", lanyard.UserActive)
	ac := p.loggedIn(t, "alice")
	_, link := p.startGet(t, ac, nil)
	if err := newPhone(t).enroll(t, link); err != nil {
		t.Fatal(err)
	}
	c := p.browser(t)
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		resp, body := p.get(t, c, path)
		wantStatus(t, resp, body, http.StatusOK, want)
	}
	resp, body := p.get(t, c, "/metrics")
	wantStatus(t, resp, body, http.StatusOK,
		`lanyard_http_requests_total{code="200",route="GET /mobile-id/get"} 1`,
		`lanyard_logins_total{result="ok"} 1`,
		`lanyard_mobile_ids{state="active"} 1`,
		`lanyard_outbox_pending 1`, // the "created" notification
		`lanyard_database_stats_up 1`,
		`lanyard_enrollments_total{result="ok"} 1`,
		`go_goroutines`)
}
