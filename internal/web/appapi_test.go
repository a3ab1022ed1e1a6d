package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestAppAPIRefusesBadRequests sends what a broken or hostile app might:
// every answer is JSON with a stable code, never a 500.
func TestAppAPIRefusesBadRequests(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"empty body", "POST", "/app/v1/enroll", "", 400, "invalid"},
		{"not JSON", "POST", "/app/v1/enroll", "<xml/>", 400, "invalid"},
		{"wrong type", "POST", "/app/v1/enroll", `{"code": 5}`, 400, "invalid"},
		{"unknown field", "POST", "/app/v1/enroll", `{"code": "x", "admin": true}`, 400, "invalid"},
		{"trailing data", "POST", "/app/v1/enroll", `{"code": "x"} {}`, 400, "invalid"},
		{"too large", "POST", "/app/v1/enroll", `{"code": "` + strings.Repeat("x", 300<<10) + `"}`, 400, "invalid"},
		{"missing code", "POST", "/app/v1/enroll", `{"device_name": "phone"}`, 400, "invalid"},
		{"unsigned sync", "GET", "/app/v1/sync", "", 401, "unauthorized"},
		{"empty verify", "POST", "/app/v1/auth/verify", `{}`, 400, "invalid"},
		{"unknown path", "GET", "/app/v1/nothing", "", 404, "not_found"},
		{"wrong method", "DELETE", "/app/v1/enroll", "", 404, "not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, p.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(b, &e); err != nil || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("not a JSON error (%s): %s", resp.Header.Get("Content-Type"), b)
			}
			if resp.StatusCode != tc.status || e.Error.Code != tc.code || e.Error.Message == "" {
				t.Fatalf("%d %+v, want %d %s", resp.StatusCode, e.Error, tc.status, tc.code)
			}
			if strings.Contains(e.Error.Message, strings.Repeat("x", 100)) {
				t.Fatal("the error echoes the input")
			}
		})
	}
	resp, body := p.get(t, p.browser(t), "/no/such/page")
	wantStatus(t, resp, body, http.StatusNotFound, "There is no page at this address.")
}

// TestUnusedCodesExpire shows the job that ends processes whose code
// expired unused: the registered mobile ID is deleted and the code is void.
func TestUnusedCodesExpire(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		p := newPortal(t, dsn)
		alice := p.addUser(t, "alice", lanyard.UserActive)
		path, link := p.startGet(t, p.loggedIn(t, "alice"), nil)
		if n, err := p.db.ExpireEnrollments(t.Context()); err != nil || n != 0 {
			t.Fatalf("a fresh code expired: %d, %v", n, err)
		}
		p.clock.Add(16 * time.Minute)
		n, err := p.db.ExpireEnrollments(t.Context())
		p.clock.Reset()
		if err != nil || n != 1 {
			t.Fatalf("ExpireEnrollments = %d, %v", n, err)
		}
		if ms, _ := p.db.FindMobileIDs(t.Context(), alice.ID, 10); len(ms) != 0 {
			t.Fatalf("%d mobile IDs left after the code expired", len(ms))
		}
		if err := newPhone(t).enroll(t, link); apiCode(err) != "not_found" {
			t.Fatalf("enroll after expiry: %v", err)
		}
		resp, body := p.get(t, p.loggedIn(t, "alice"), path)
		wantStatus(t, resp, body, http.StatusConflict, "has ended")
	})
}

// TestExpiryJobRunsOnceOnACluster runs the expiry job on two instances at
// once: the process ends once, with one audit event.
func TestExpiryJobRunsOnceOnACluster(t *testing.T) {
	dsn := testenv.DSN(t, "postgres")
	p := newPortal(t, dsn)
	other := testenv.OpenDB(t, dsn)
	p.addUser(t, "alice", lanyard.UserActive)
	p.startGet(t, p.loggedIn(t, "alice"), nil)
	p.clock.Add(16 * time.Minute)
	other.Now = p.clock.Now
	defer p.clock.Reset()
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, db := range []*store.DB{p.db, other} {
		wg.Go(func() {
			n, err := db.ExpireEnrollments(t.Context())
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		})
	}
	wg.Wait()
	if counts[0]+counts[1] != 1 {
		t.Fatalf("the process ended %d times", counts[0]+counts[1])
	}
	events, _ := p.db.FindAuditEvents(t.Context(), lanyard.AuditFilter{Action: "mobileid.code_expire"})
	if len(events) != 1 {
		t.Fatalf("%d expiry audit events", len(events))
	}
}

// TestOCSPGetWithDoubleSlash sends an OCSP GET whose base64 holds "//", as
// any request may: the portal hands it to the responder unchanged instead
// of redirecting it to a cleaned, different path.
func TestOCSPGetWithDoubleSlash(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	resp, body := p.get(t, p.browser(t), "/pki/ocsp/MEowSDBGMEQw//AB+x")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/ocsp-response" {
		t.Fatalf("OCSP GET with //: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if body := p.metrics(t); !strings.Contains(body, `route="/pki/"`) {
		t.Fatalf("no /pki/ route in the metrics:\n%s", body)
	}
}
