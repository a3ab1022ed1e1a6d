package web_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
)

// mailKinds lists the kinds of mail queued for an address, oldest first.
func (p *portal) mailKinds(t *testing.T, to string) []string {
	t.Helper()
	msgs, err := p.outbox.ListMail(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == to {
			kinds = append(kinds, msgs[i].Kind)
		}
	}
	return kinds
}

// TestOptionsChangeTheProcess shows that every option of the script
// changes what the process does.
func TestOptionsChangeTheProcess(t *testing.T) {
	t.Run("certificate kinds and validity", func(t *testing.T) {
		p := newPortal(t, sqliteDSN(t))
		p.addUser(t, "alice", lanyard.UserActive)
		ac := p.loggedIn(t, "alice")
		p.setScript(t, "issue_authentication_certificate = True", "issue_authentication_certificate = False", "validity_years = 2", "validity_years = 3")
		resp, body := p.get(t, ac, "/mobile-id/get")
		wantStatus(t, resp, body, http.StatusOK, "Signature certificate", "3 years")
		if strings.Contains(body, "Authentication certificate") {
			t.Fatal("the introduction offers an authentication certificate the options do not issue")
		}
		_, link := p.startGet(t, ac, nil)
		ph := newPhone(t)
		if err := ph.enroll(t, link); err != nil {
			t.Fatal(err)
		}
		if len(ph.resp.Certificates) != 1 || ph.resp.Certificates[0].Usage != "signature" {
			t.Fatalf("issued %+v", ph.resp.Certificates)
		}
		cert, _ := x509.ParseCertificate(ph.resp.Certificates[0].Certificate)
		if y := cert.NotAfter.Sub(cert.NotBefore).Hours() / 24 / 365; y < 2.99 || y > 3.01 {
			t.Fatalf("valid %.2f years, want 3", y)
		}
	})
	t.Run("the user chooses certificates", func(t *testing.T) {
		p := newPortal(t, sqliteDSN(t))
		p.addUser(t, "alice", lanyard.UserActive)
		ac := p.loggedIn(t, "alice")
		p.setScript(t, "user_may_choose_certificates = False", "user_may_choose_certificates = True")
		resp, body := p.get(t, ac, "/mobile-id/get")
		wantStatus(t, resp, body, http.StatusOK, `type="checkbox" name="usage" value="signature"`, `value="authentication"`)
		resp, _ = p.post(t, ac, "/mobile-id/get", url.Values{"action": {"next"}})
		if kind, _ := p.followMessage(t, ac, resp); kind != "error" {
			t.Fatal("no certificate chosen, and the process went on")
		}
		_, link := p.startGet(t, ac, url.Values{"action": {"next"}, "usage": {"authentication", "encryption"}})
		ph := newPhone(t)
		if err := ph.enroll(t, link); err != nil {
			t.Fatal(err)
		}
		if len(ph.resp.Certificates) != 1 || ph.resp.Certificates[0].Usage != "authentication" || len(ph.resp.EncryptionKeys) != 0 {
			t.Fatalf("issued %+v and %d keys; want the chosen authentication only", ph.resp.Certificates, len(ph.resp.EncryptionKeys))
		}
	})
	t.Run("QR code by email and notifications", func(t *testing.T) {
		p := newPortal(t, sqliteDSN(t))
		alice := p.addUser(t, "alice", lanyard.UserActive)
		ac := p.loggedIn(t, "alice")
		p.setScript(t, "show_qr_code = True", "show_qr_code = False")
		path, link := p.startGet(t, ac, nil)
		if link != "" {
			t.Fatal("the page shows the link although the code goes by email")
		}
		resp, body := p.get(t, ac, path)
		wantStatus(t, resp, body, http.StatusOK, "The QR code was sent to your email address alice@example.com")
		if strings.Contains(body, `alt="QR code"`) {
			t.Fatal("the page shows a QR code although it goes by email")
		}
		if kinds := p.mailKinds(t, alice.Email); !slices.Equal(kinds, []string{"qr_code"}) {
			t.Fatalf("mail queued: %v", kinds)
		}
		msgs, _ := p.outbox.ListMail(t.Context(), 1)
		_, mail, err := p.outbox.FindMail(t.Context(), msgs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(mail.ImagePNG) == 0 || !strings.Contains(mail.HTML, "cid:image") {
			t.Fatal("the mail has no inline QR code")
		}
		p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
		resp, body = p.get(t, p.loggedIn(t, "root"), "/admin/outbox")
		wantStatus(t, resp, body, http.StatusOK, "alice@example.com", "Activate your mobile ID", "waiting")
		if strings.Contains(body, "/app/v1/enroll") {
			t.Fatal("Admin › Outbox shows the activation link")
		}
		i := strings.Index(mail.Text, "http://")
		emailed := strings.Fields(mail.Text[i:])[0]
		_, code, _ := appclient.ParseEnrollmentLink(emailed)
		p.noSecretOnDisk(t, code)
		ph := newPhone(t)
		if err := ph.enroll(t, emailed); err != nil {
			t.Fatalf("enroll with the emailed link: %v", err)
		}
		if kinds := p.mailKinds(t, alice.Email); !slices.Equal(kinds, []string{"qr_code", "created"}) {
			t.Fatalf("mail after enrollment: %v", kinds)
		}
		// notify_user = False: no created mail for the next mobile ID.
		p.setScript(t, "notify_user = True", "notify_user = False")
		_, link = p.startGet(t, ac, url.Values{"action": {"lock"}})
		if err := newPhone(t).enroll(t, link); err != nil {
			t.Fatal(err)
		}
		if kinds := p.mailKinds(t, alice.Email); !slices.Equal(kinds, []string{"qr_code", "created"}) {
			t.Fatalf("mail with notify_user = False: %v", kinds)
		}
	})
	t.Run("user properties", func(t *testing.T) {
		p := newPortal(t, sqliteDSN(t))
		p.addUser(t, "alice", lanyard.UserActive)
		ac := p.loggedIn(t, "alice")
		p.setScript(t, `"server_name": "Smart ID",`, `"server_name": "Acme " + user.username,`, `"profile_name": "MobileID " + user.common_name,`, `"profile_name": "Work phone of " + user.common_name,`)
		_, link := p.startGet(t, ac, nil)
		ph := newPhone(t)
		if err := ph.enroll(t, link); err != nil {
			t.Fatal(err)
		}
		if ph.resp.ServerName != "Acme alice" || ph.resp.ProfileName != "Work phone of Alice Example" {
			t.Fatalf("profile %q on %q", ph.resp.ProfileName, ph.resp.ServerName)
		}
	})
	t.Run("a script that fails for this user", func(t *testing.T) {
		p := newPortal(t, sqliteDSN(t))
		p.addUser(t, "alice", lanyard.UserActive)
		bob := p.addUser(t, "bob", lanyard.UserActive)
		p.setScript(t, `"server_name": "Smart ID",`, `"server_name": {"alice": "Smart ID"}[user.username],`)
		bc := p.loggedIn(t, "bob")
		for range 2 { // looking is not starting: no mail
			resp, body := p.get(t, bc, "/mobile-id/get")
			wantStatus(t, resp, body, http.StatusBadRequest, "cannot be created because its options failed", "bob")
		}
		if kinds := p.mailKinds(t, bob.Email); len(kinds) != 0 {
			t.Fatalf("bob was mailed for opening a page: %v", kinds)
		}
		resp, _ := p.post(t, bc, "/mobile-id/get", url.Values{"action": {"next"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mobile-id/get" {
			t.Fatalf("Next with failing options: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if kinds := p.mailKinds(t, bob.Email); !slices.Equal(kinds, []string{"failed"}) {
			t.Fatalf("bob was told by mail: %v", kinds)
		}
		resp, body := p.get(t, p.loggedIn(t, "alice"), "/mobile-id/get")
		wantStatus(t, resp, body, http.StatusOK, "Next")
	})
}

func TestEnrollAttemptsAreLimited(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	c := &appclient.Client{BaseURL: p.URL}
	ph := newPhone(t)
	var last error
	for range 21 {
		_, last = c.Enroll(t.Context(), ph.request(t, "GUESSEDCODE"+strings.Repeat("A", 16)))
	}
	if apiCode(last) != "rate_limited" {
		t.Fatalf("21st guess: %v", last)
	}
}

// noSecretOnDisk fails when secret appears in the SQLite database files.
func (p *portal) noSecretOnDisk(t *testing.T, secret string) {
	t.Helper()
	files, _ := filepath.Glob(p.dsn + "*")
	if len(files) == 0 {
		t.Fatal("no database files to search")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Fatalf("%s holds a secret in clear", f)
		}
	}
}

func TestChallengesAndVerificationsAreLimited(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	c := &appclient.Client{BaseURL: p.URL}
	var last error
	for range 121 {
		_, last = c.Challenge(t.Context())
	}
	if apiCode(last) != "rate_limited" {
		t.Fatalf("121st challenge in a minute: %v", last)
	}
	for range 21 {
		_, last = c.Verify(t.Context(), appclient.VerifyRequest{ChallengeID: "nope", Certificate: []byte{1}, Signature: []byte{1}})
	}
	if apiCode(last) != "rate_limited" {
		t.Fatalf("21st failed verification: %v", last)
	}
}

// TestLongestValidityIssues saves the longest validity the options accept
// and issues with it: what a script may say, the CA does.
func TestLongestValidityIssues(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "alice", lanyard.UserActive)
	p.setScript(t, "validity_years = 2", fmt.Sprintf("validity_years = %d", lanyard.MaxValidityYears))
	_, link := p.startGet(t, p.loggedIn(t, "alice"), nil)
	if err := newPhone(t).enroll(t, link); err != nil {
		t.Fatalf("enroll with validity_years = %d: %v", lanyard.MaxValidityYears, err)
	}
}
