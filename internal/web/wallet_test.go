package web_test

import (
	"net/http"
	"testing"

	"github.com/lanyard-id/lanyard/internal/webapp"
)

// The portal serves the phone app under its own policy, with no login.
func TestWalletServed(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	c := p.browser(t)
	resp, body := p.get(t, c, "/wallet")
	wantStatus(t, resp, body, http.StatusMovedPermanently)
	if loc := resp.Header.Get("Location"); loc != "/wallet/" {
		t.Errorf("GET /wallet redirects to %q, want /wallet/", loc)
	}
	resp, body = p.get(t, c, "/wallet/")
	wantStatus(t, resp, body, http.StatusOK, `<button id="activate"`, `data-service-worker="sw.js"`)
	if got := resp.Header.Get("Content-Security-Policy"); got != webapp.ContentSecurityPolicy {
		t.Errorf("the app is served with the policy %q, want its own", got)
	}
	if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options %q, want DENY", got)
	}
	resp, body = p.get(t, c, "/wallet/nothing.js")
	wantStatus(t, resp, body, http.StatusNotFound)
}
