package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAppAPICrossOrigin: a phone app of another origin may call the app
// API (preflight, then the call, whose answer it may read), while the
// portal's own forms still refuse cross-origin posts.
func TestAppAPICrossOrigin(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	const origin = "https://wallet.other.example"
	send := func(method, path, body string, header http.Header) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, p.URL+path, strings.NewReader(body))
		req.Header = header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	resp := send(http.MethodOptions, "/app/v1/sync", "", http.Header{
		"Origin": {origin}, "Access-Control-Request-Method": {"GET"},
		"Access-Control-Request-Headers": {"lanyard-device,lanyard-signature,lanyard-timestamp"},
	})
	allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(allowed, "lanyard-signature") || !strings.Contains(allowed, "content-type") {
		t.Fatalf("preflight: %d, headers %v", resp.StatusCode, resp.Header)
	}
	if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Error("the app API allows credentials across origins")
	}

	// The call itself is not refused as a cross-site request: it reaches
	// the API, which judges the code.
	resp = send(http.MethodPost, "/app/v1/enroll", `{"code": "nope"}`, http.Header{
		"Origin": {origin}, "Sec-Fetch-Site": {"cross-site"}, "Content-Type": {"application/json"},
	})
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("cross-origin enroll: %d, headers %v", resp.StatusCode, resp.Header)
	}

	// The portal's forms still refuse it.
	resp = send(http.MethodPost, "/login", url.Values{"username": {"a"}, "password": {"b"}}.Encode(), http.Header{
		"Origin": {origin}, "Sec-Fetch-Site": {"cross-site"}, "Content-Type": {"application/x-www-form-urlencoded"},
	})
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("cross-origin login: %d, headers %v", resp.StatusCode, resp.Header)
	}
}
