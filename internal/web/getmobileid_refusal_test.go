package web_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"golang.org/x/crypto/ocsp"
)

func TestGetMobileIDRefusals(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		p := newPortal(t, dsn)
		alice := p.addUser(t, "alice", lanyard.UserActive)
		p.addUser(t, "bob", lanyard.UserActive)
		ac := p.loggedIn(t, "alice")
		bc := p.loggedIn(t, "bob")
		nothingIssued := func(t *testing.T) {
			t.Helper()
			certs, err := p.ca.FindCertificatesByUser(t.Context(), alice.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range certs {
				if c.Status == lanyard.CertificateValid {
					t.Fatalf("a valid certificate %s was left issued", c.Serial)
				}
			}
		}

		t.Run("an address no certificate can name", func(t *testing.T) {
			// Stored before addresses were checked: the introduction says
			// why nothing can be made, and nothing is.
			u := p.addUser(t, "jurgen", lanyard.UserActive)
			if _, err := rawDB(t, p.dsn).Exec(`UPDATE users SET email = 'jürgen@example.com' WHERE username = 'jurgen'`); err != nil {
				t.Fatal(err)
			}
			jc := p.loggedIn(t, "jurgen")
			resp, body := p.get(t, jc, "/mobile-id/get")
			wantStatus(t, resp, body, http.StatusBadRequest, "only ASCII addresses can")
			resp, body = p.post(t, jc, "/mobile-id/get", url.Values{"action": {"next"}})
			if resp.StatusCode >= 500 || resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/mobile-id/get/") {
				t.Fatalf("leaving the introduction: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			if ms, err := p.db.FindMobileIDs(t.Context(), u.ID, 0); err != nil || len(ms) != 0 {
				t.Fatalf("mobile IDs %v, %v; want none", ms, err)
			}
		})
		t.Run("cancel at the introduction", func(t *testing.T) {
			resp, body := p.post(t, ac, "/mobile-id/get", url.Values{"action": {"cancel"}})
			wantStatus(t, resp, body, http.StatusSeeOther)
			events, _ := p.db.FindAuditEvents(t.Context(), lanyard.AuditFilter{Action: "mobileid.process_cancel"})
			if len(events) != 1 {
				t.Fatalf("%d cancel events", len(events))
			}
		})
		t.Run("cancel at activation voids the code", func(t *testing.T) {
			path, link := p.startGet(t, ac, nil)
			resp, body := p.post(t, ac, path+"/cancel", nil)
			wantStatus(t, resp, body, http.StatusSeeOther)
			if err := newPhone(t).enroll(t, link); apiCode(err) != "not_found" {
				t.Fatalf("enroll after cancel: %v", err)
			}
			resp, body = p.get(t, ac, path)
			wantStatus(t, resp, body, http.StatusConflict, "has ended")
			nothingIssued(t)
		})
		t.Run("reused code", func(t *testing.T) {
			path, link := p.startGet(t, ac, nil)
			if err := newPhone(t).enroll(t, link); err != nil {
				t.Fatal(err)
			}
			if err := newPhone(t).enroll(t, link); apiCode(err) != "not_found" {
				t.Fatalf("second enroll: %v", err)
			}
			p.post(t, ac, path+"/finish", nil)
			views, _ := p.mobile.Current(t.Context(), alice.ID)
			p.mobile.Lock(t.Context(), lanyard.CLIActor, alice.ID, views[0].MobileID.PublicID)
		})
		t.Run("refresh voids the earlier code", func(t *testing.T) {
			path, first := p.startGet(t, ac, nil)
			second := p.activationLink(t, ac, path)
			if second == "" {
				t.Fatal("the refreshed page shows no enrollment link")
			}
			if first == second {
				t.Fatal("a refresh showed the same code")
			}
			if err := newPhone(t).enroll(t, first); apiCode(err) != "not_found" {
				t.Fatalf("enroll with the voided code: %v", err)
			}
			// Back to the introduction and Next again replaces the process.
			_, third := p.startGet(t, ac, nil)
			if err := newPhone(t).enroll(t, second); apiCode(err) != "not_found" {
				t.Fatalf("enroll with the replaced process's code: %v", err)
			}
			p.post(t, ac, path+"/cancel", nil)
			if err := newPhone(t).enroll(t, third); err != nil {
				t.Fatalf("enroll with the current code: %v", err)
			}
			ms, _ := p.db.FindMobileIDs(t.Context(), alice.ID, 100)
			waiting := 0
			for _, m := range ms {
				if m.State == lanyard.MobileIDRegistered || m.State == lanyard.MobileIDActive {
					waiting++
				}
			}
			if waiting != 1 {
				t.Fatalf("%d mobile IDs registered or active after Back and refresh", waiting)
			}
			p.mobile.Lock(t.Context(), lanyard.CLIActor, alice.ID, ms[0].PublicID)
		})
		t.Run("expired code", func(t *testing.T) {
			_, link := p.startGet(t, ac, nil)
			p.clock.Add(16 * time.Minute)
			defer p.clock.Reset()
			if err := newPhone(t).enroll(t, link); apiCode(err) != "expired" {
				t.Fatalf("enroll with an expired code: %v", err)
			}
			nothingIssued(t)
		})
		t.Run("another user's process", func(t *testing.T) {
			path, _ := p.startGet(t, ac, nil)
			resp, body := p.get(t, bc, path)
			wantStatus(t, resp, body, http.StatusNotFound)
			resp, body = p.post(t, bc, path+"/cancel", nil)
			wantStatus(t, resp, body, http.StatusNotFound)
			resp, body = p.post(t, bc, path+"/finish", nil)
			wantStatus(t, resp, body, http.StatusNotFound)
			p.post(t, ac, path+"/cancel", nil)
		})
		t.Run("forged and swapped requests", func(t *testing.T) {
			ph := newPhone(t)
			other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			cases := []struct {
				name string
				edit func(r *appclient.EnrollRequest)
				code string
			}{
				{"bad signature", func(r *appclient.EnrollRequest) { r.CSRs.Signature[len(r.CSRs.Signature)-3] ^= 0xff }, "invalid"},
				{"same key twice", func(r *appclient.EnrollRequest) { r.CSRs.Authentication = csr(t, ph.sig, "") }, "invalid"},
				{"someone else's email", func(r *appclient.EnrollRequest) { r.CSRs.Signature = csr(t, other, "bob@example.com") }, "invalid"},
				{"garbage", func(r *appclient.EnrollRequest) { r.CSRs.Authentication = []byte("garbage") }, "invalid"},
				{"missing request", func(r *appclient.EnrollRequest) { r.CSRs.Authentication = nil }, "invalid"},
				{"bad transport key", func(r *appclient.EnrollRequest) { r.TransportKey = []byte{1, 2, 3} }, "invalid"},
				{"empty device name", func(r *appclient.EnrollRequest) { r.DeviceName = " " }, "invalid"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					path, link := p.startGet(t, ac, nil)
					_, code, _ := appclient.ParseEnrollmentLink(link)
					req := ph.request(t, code)
					tc.edit(&req)
					_, err := (&appclient.Client{BaseURL: p.URL}).Enroll(t.Context(), req)
					if apiCode(err) != tc.code {
						t.Fatalf("err = %v, want %s", err, tc.code)
					}
					nothingIssued(t)
					p.post(t, ac, path+"/cancel", nil)
				})
			}
		})
		t.Run("a refused request leaves the code good", func(t *testing.T) {
			path, link := p.startGet(t, ac, nil)
			_, code, _ := appclient.ParseEnrollmentLink(link)
			ph := newPhone(t)
			bad := ph.request(t, code)
			bad.CSRs.Signature = csr(t, ph.sig, "bob@example.com")
			if _, err := (&appclient.Client{BaseURL: p.URL}).Enroll(t.Context(), bad); apiCode(err) != "invalid" {
				t.Fatalf("a request naming bob: %v", err)
			}
			if err := ph.enroll(t, link); err != nil {
				t.Fatalf("the proper request after a refused one: %v", err)
			}
			p.post(t, ac, path+"/finish", nil)
			views, _ := p.mobile.Current(t.Context(), alice.ID)
			p.mobile.Lock(t.Context(), lanyard.CLIActor, alice.ID, views[0].MobileID.PublicID)
		})
		t.Run("two apps race with one code", func(t *testing.T) {
			path, link := p.startGet(t, ac, nil)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				ph := newPhone(t)
				wg.Go(func() { errs[i] = ph.enroll(t, link) })
			}
			wg.Wait()
			wins := 0
			for _, err := range errs {
				switch apiCode(err) {
				case "":
					wins++
				case "not_found", "conflict":
				default:
					t.Fatalf("racing enroll: %v", err)
				}
			}
			if wins != 1 {
				t.Fatalf("%d apps won one code", wins)
			}
			p.post(t, ac, path+"/finish", nil)
		})
		t.Run("a new mobile ID locks the old one", func(t *testing.T) {
			views, _ := p.mobile.Current(t.Context(), alice.ID)
			old := views[0]
			if old.MobileID.State != lanyard.MobileIDActive {
				t.Fatalf("old state %s", old.MobileID.State)
			}
			resp, body := p.get(t, ac, "/mobile-id/get")
			wantStatus(t, resp, body, http.StatusOK, "You already have an active mobile ID", ">Lock<")
			resp, body = p.post(t, ac, "/mobile-id/get", url.Values{"action": {"next"}})
			if kind, _ := p.followMessage(t, ac, resp); kind != "error" {
				t.Fatal("Next without Lock went on")
			}
			_, link := p.startGet(t, ac, url.Values{"action": {"lock"}})
			for _, c := range old.Certificates {
				if st, reason := p.ocspStatus(t, c.DER); st != ocsp.Revoked || reason != ocsp.CessationOfOperation {
					t.Fatalf("old certificate: OCSP %d reason %d", st, reason)
				}
			}
			if err := newPhone(t).enroll(t, link); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("another user's mobile ID", func(t *testing.T) {
			views, _ := p.mobile.Current(t.Context(), alice.ID)
			id := views[0].MobileID.PublicID
			resp, body := p.post(t, bc, "/mobile-id/"+id+"/lock", nil)
			wantStatus(t, resp, body, http.StatusNotFound)
			resp, body = p.get(t, bc, "/mobile-id")
			if strings.Contains(body, id) || strings.Contains(body, "Alice") {
				t.Fatalf("bob sees alice's mobile ID: %d", resp.StatusCode)
			}
			if v, _ := p.mobile.Current(t.Context(), alice.ID); v[0].MobileID.State != lanyard.MobileIDActive {
				t.Fatal("bob locked alice's mobile ID")
			}
		})
		t.Run("deactivation holds and reactivation releases", func(t *testing.T) {
			views, _ := p.mobile.Current(t.Context(), alice.ID)
			certs := views[0].Certificates
			if _, err := p.mobile.SetUserState(t.Context(), lanyard.CLIActor, "alice", lanyard.UserInactive); err != nil {
				t.Fatal(err)
			}
			for _, c := range certs {
				if st, reason := p.ocspStatus(t, c.DER); st != ocsp.Revoked || reason != ocsp.CertificateHold {
					t.Fatalf("inactive: OCSP %d reason %d", st, reason)
				}
			}
			if v, _ := p.mobile.Current(t.Context(), alice.ID); v[0].MobileID.State != lanyard.MobileIDInactive {
				t.Fatalf("mobile ID %s", v[0].MobileID.State)
			}
			if _, err := p.mobile.SetUserState(t.Context(), lanyard.CLIActor, "alice", lanyard.UserActive); err != nil {
				t.Fatal(err)
			}
			for _, c := range certs {
				if st, _ := p.ocspStatus(t, c.DER); st != ocsp.Good {
					t.Fatalf("reactivated: OCSP %d", st)
				}
			}
		})
		t.Run("user deactivated between QR and enrollment", func(t *testing.T) {
			bob, _ := p.users.FindUserByUsername(t.Context(), "bob")
			_, link := p.startGet(t, bc, nil)
			p.mobile.SetUserState(t.Context(), lanyard.CLIActor, "bob", lanyard.UserInactive)
			if err := newPhone(t).enroll(t, link); apiCode(err) != "user_state" {
				t.Fatalf("enroll for an inactive user: %v", err)
			}
			if certs, _ := p.ca.FindCertificatesByUser(t.Context(), bob.ID); len(certs) != 0 {
				t.Fatalf("%d certificates issued to an inactive user", len(certs))
			}
			bob, _ = p.users.FindUserByUsername(t.Context(), "bob")
			if _, err := p.mobile.Intro(t.Context(), lanyard.CLIActor, bob); lanyard.ErrorCode(err) != lanyard.EUSERSTATE {
				t.Fatalf("start for an inactive user: %v", err)
			}
		})
	})
}
