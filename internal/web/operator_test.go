package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"golang.org/x/crypto/ocsp"
)

var mailLinkRE = regexp.MustCompile(`http://\S+/app/v1/enroll\?code=\w+`)

// lastLink returns the enrollment link of the newest QR code mail to addr.
func (p *portal) lastLink(t *testing.T, addr string) string {
	t.Helper()
	msgs, _ := p.outbox.ListMail(t.Context(), 100)
	for _, m := range msgs {
		if m.To == addr && m.Kind == "qr_code" {
			_, mail, err := p.outbox.FindMail(t.Context(), m.ID)
			if err != nil {
				t.Fatal(err)
			}
			return mailLinkRE.FindString(mail.Text)
		}
	}
	t.Fatalf("no QR code mail to %s", addr)
	return ""
}

func TestOperatorSuppliesAndLocks(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		p := newPortal(t, dsn)
		alice := p.addUser(t, "alice", lanyard.UserActive)
		p.addUser(t, "olga", lanyard.UserActive, lanyard.RoleOperator)
		p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
		p.addUser(t, "bob", lanyard.UserActive)
		op := p.loggedIn(t, "olga")

		resp, body := p.get(t, op, "/operator?q=ali")
		wantStatus(t, resp, body, http.StatusOK, `href="/operator/users/alice"`)
		resp, body = p.get(t, op, "/operator/users/alice")
		wantStatus(t, resp, body, http.StatusOK, "Supply mobile ID", "alice@example.com", "has no mobile ID")

		resp, body = p.post(t, op, "/operator/users/alice/supply", nil)
		wantStatus(t, resp, body, http.StatusSeeOther)
		resp, body = p.get(t, op, resp.Header.Get("Location"))
		wantStatus(t, resp, body, http.StatusOK, "the QR code was sent to alice@example.com", "registered", "waiting for the app")
		// A second supply replaces the one still waiting for the app.
		firstLink := p.lastLink(t, alice.Email)
		resp, _ = p.post(t, op, "/operator/users/alice/supply", nil)
		if kind, text := p.followMessage(t, op, resp); kind != "notice" {
			t.Fatalf("second supply: %s %s", kind, text)
		}
		if err := newPhone(t).enroll(t, firstLink); apiCode(err) != "not_found" {
			t.Fatalf("the replaced supply's code: %v, want not_found", err)
		}
		if ms, _ := p.db.FindMobileIDs(t.Context(), alice.ID, 0); len(ms) != 1 {
			t.Fatalf("%d mobile IDs waiting after a second supply", len(ms))
		}
		ph := newPhone(t)
		if err := ph.enroll(t, p.lastLink(t, alice.Email)); err != nil {
			t.Fatalf("enroll from the supplied mail: %v", err)
		}
		if ph.resp.ProfileName != "MobileID Alice Example" {
			t.Fatalf("profile %q", ph.resp.ProfileName)
		}

		// A second supply without the confirmation is refused; with it the
		// old mobile ID is locked.
		resp, _ = p.post(t, op, "/operator/users/alice/supply", nil)
		if kind, _ := p.followMessage(t, op, resp); kind != "error" {
			t.Fatal("a supply over an active mobile ID went on without confirmation")
		}
		resp, body = p.get(t, op, "/operator/users/alice")
		wantStatus(t, resp, body, http.StatusOK, "has an active mobile ID", `name="lock" value="yes"`)
		resp, _ = p.post(t, op, "/operator/users/alice/supply", url.Values{"lock": {"yes"}})
		if kind, text := p.followMessage(t, op, resp); kind != "notice" {
			t.Fatalf("confirmed supply: %s %s", kind, text)
		}
		if st, _ := p.ocspStatus(t, ph.resp.Certificates[0].Certificate); st != ocsp.Revoked {
			t.Fatalf("the old mobile ID's certificate is %d in OCSP", st)
		}
		second := newPhone(t)
		if err := second.enroll(t, p.lastLink(t, alice.Email)); err != nil {
			t.Fatal(err)
		}

		// State changes follow into the certificates.
		resp, body = p.post(t, op, "/operator/users/alice/state", url.Values{"state": {"inactive"}})
		wantStatus(t, resp, body, http.StatusSeeOther)
		if st, reason := p.ocspStatus(t, second.resp.Certificates[0].Certificate); st != ocsp.Revoked || reason != ocsp.CertificateHold {
			t.Fatalf("inactive user: OCSP %d reason %d", st, reason)
		}
		resp, body = p.get(t, op, "/operator/users/alice")
		wantStatus(t, resp, body, http.StatusOK, "only active users can get a mobile ID")
		p.post(t, op, "/operator/users/alice/state", url.Values{"state": {"active"}})

		// Lock from the operator's page.
		resp, body = p.post(t, op, "/operator/users/alice/mobile-ids/"+second.resp.MobileID+"/lock", nil)
		wantStatus(t, resp, body, http.StatusSeeOther)
		if st, _ := p.ocspStatus(t, second.resp.Certificates[0].Certificate); st != ocsp.Revoked {
			t.Fatal("the locked mobile ID's certificate is not revoked")
		}
		// Delete: gone from the lists, and gone for a second delete.
		resp, body = p.post(t, op, "/operator/users/alice/mobile-ids/"+second.resp.MobileID+"/delete", nil)
		wantStatus(t, resp, body, http.StatusSeeOther)
		resp, body = p.get(t, op, "/operator/users/alice")
		if strings.Contains(body, second.resp.MobileID) {
			t.Fatal("a deleted mobile ID is still listed")
		}
		resp, body = p.post(t, op, "/operator/users/alice/mobile-ids/"+second.resp.MobileID+"/delete", nil)
		wantStatus(t, resp, body, http.StatusNotFound)
		// A mobile ID of alice through another user's page: not found.
		resp, body = p.post(t, op, "/operator/users/bob/mobile-ids/"+second.resp.MobileID+"/lock", nil)
		wantStatus(t, resp, body, http.StatusNotFound)
		// Operators do not manage administrators.
		resp, body = p.post(t, op, "/operator/users/root/state", url.Values{"state": {"locked"}})
		wantStatus(t, resp, body, http.StatusForbidden)

		events, _ := p.db.FindAuditEvents(t.Context(), lanyard.AuditFilter{Action: "mobileid.supply"})
		if len(events) != 3 || events[0].Actor != "olga" {
			t.Fatalf("supply audit: %d events", len(events))
		}
	})
}

func TestOperatorAreaForOperatorsOnly(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	user := p.addUser(t, "alice", lanyard.UserActive)
	alice := p.loggedIn(t, "alice")
	resp, body := p.get(t, alice, "/")
	if strings.Contains(body, `href="/operator"`) {
		t.Fatal("a plain user sees the Operator menu")
	}
	for _, path := range []string{"/operator", "/operator/users/alice"} {
		resp, body = p.get(t, alice, path)
		wantStatus(t, resp, body, http.StatusForbidden, "operator role")
	}
	for _, path := range []string{"/operator/users/alice/supply", "/operator/users/alice/state"} {
		resp, body = p.post(t, alice, path, url.Values{"state": {"locked"}})
		wantStatus(t, resp, body, http.StatusForbidden)
	}
	if ms, _ := p.db.FindMobileIDs(t.Context(), user.ID, 100); len(ms) != 0 {
		t.Fatal("a plain user supplied a mobile ID")
	}
}
