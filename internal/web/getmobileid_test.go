package web_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"golang.org/x/crypto/ocsp"
)

// phone is a device's keys, as the app would make them.
type phone struct {
	sig, auth *ecdsa.PrivateKey
	transport *ecdh.PrivateKey
	resp      *appclient.EnrollResponse
}

func newPhone(t *testing.T) *phone {
	t.Helper()
	sig, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	auth, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tr, _ := ecdh.X25519().GenerateKey(rand.Reader)
	return &phone{sig: sig, auth: auth, transport: tr}
}

func csr(t *testing.T, key crypto.Signer, email string) []byte {
	t.Helper()
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "phone"}}
	if email != "" {
		tmpl.EmailAddresses = []string{email}
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (ph *phone) request(t *testing.T, code string) appclient.EnrollRequest {
	return appclient.EnrollRequest{
		Code: code, DeviceName: "Test phone", TransportKey: ph.transport.PublicKey().Bytes(),
		CSRs: appclient.CSRs{Signature: csr(t, ph.sig, ""), Authentication: csr(t, ph.auth, "")},
	}
}

// enroll enrolls the phone with the code of link.
func (ph *phone) enroll(t *testing.T, link string) error {
	t.Helper()
	base, code, err := appclient.ParseEnrollmentLink(link)
	if err != nil {
		t.Fatalf("parse link %q: %v", link, err)
	}
	c := &appclient.Client{BaseURL: base}
	ph.resp, err = c.Enroll(context.Background(), ph.request(t, code))
	return err
}

func apiCode(err error) string {
	var ae *appclient.APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	if err == nil {
		return ""
	}
	return "transport: " + err.Error()
}

var linkRE = regexp.MustCompile(`<code class="link">([^<]+)</code>`)

// startGet runs the wizard up to the activation step and returns the
// process path and the enrollment link shown.
func (p *portal) startGet(t *testing.T, c *http.Client, form url.Values) (string, string) {
	t.Helper()
	resp, body := p.get(t, c, "/mobile-id/get")
	wantStatus(t, resp, body, http.StatusOK, "Step 1", "Next", "Cancel")
	if form == nil {
		form = url.Values{"action": {"next"}}
	}
	resp, body = p.post(t, c, "/mobile-id/get", form)
	wantStatus(t, resp, body, http.StatusSeeOther)
	path := resp.Header.Get("Location")
	if !strings.HasPrefix(path, "/mobile-id/get/") {
		t.Fatalf("start redirected to %q", path)
	}
	return path, p.activationLink(t, c, path)
}

// activationLink shows the step of a running process and returns the
// enrollment link on it, or "" when the page shows none (the code went by
// email).
func (p *portal) activationLink(t *testing.T, c *http.Client, path string) string {
	t.Helper()
	resp, body := p.get(t, c, path)
	wantStatus(t, resp, body, http.StatusOK)
	m := linkRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	if !strings.Contains(body, `alt="QR code" src="data:image/png;base64,`) {
		t.Fatal("the activation page has no PNG QR code")
	}
	return html.UnescapeString(m[1])
}

// ocspStatus asks the portal's OCSP responder about a certificate.
func (p *portal) ocspStatus(t *testing.T, der []byte) (int, int) {
	t.Helper()
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	req, err := ocsp.CreateRequest(cert, p.ca.Issuer(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(p.URL+"/pki/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r, err := ocsp.ParseResponseForCert(b, cert, p.ca.Issuer())
	if err != nil {
		t.Fatalf("OCSP: %v", err)
	}
	return r.Status, r.RevocationReason
}

func TestGetMobileIDEndToEnd(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	user := p.addUser(t, "alice", lanyard.UserActive)
	alice := p.loggedIn(t, "alice")

	resp, body := p.get(t, alice, "/")
	wantStatus(t, resp, body, http.StatusOK, `href="/mobile-id/get"`)
	path, link := p.startGet(t, alice, nil)
	if link == "" {
		t.Fatal("no enrollment link on the activation page")
	}
	_, code, _ := appclient.ParseEnrollmentLink(link)
	p.noSecretOnDisk(t, code)
	// A phone's browser opening the link goes on to the phone app's
	// enrollment screen, the code in the fragment only, and the code stays
	// good.
	resp, body = p.get(t, p.browser(t), strings.TrimPrefix(link, p.URL))
	wantStatus(t, resp, body, http.StatusSeeOther)
	if loc, want := resp.Header.Get("Location"), "../../wallet/#enroll?code="+url.QueryEscape(code); loc != want {
		t.Fatalf("the enrollment link redirects to %q, want %q", loc, want)
	}
	resp, body = p.get(t, p.browser(t), "/app/v1/enroll")
	wantStatus(t, resp, body, http.StatusOK, "Open this in the mobile app")
	ph := newPhone(t)
	if err := ph.enroll(t, link); err != nil {
		t.Fatalf("enroll: %v", err)
	}
	r := ph.resp
	if r.State != "active" || r.ProfileName != "MobileID Alice Example" || r.ServerName != "Smart ID" || r.UserID != "alice@example.com" {
		t.Fatalf("enroll response %+v", r)
	}
	if len(r.Certificates) != 2 || len(r.EncryptionKeys) != 0 || len(r.Chain) != 2 {
		t.Fatalf("%d certificates, %d keys, chain %d", len(r.Certificates), len(r.EncryptionKeys), len(r.Chain))
	}
	for _, c := range r.Certificates {
		cert, _ := x509.ParseCertificate(c.Certificate)
		years := cert.NotAfter.Sub(cert.NotBefore).Hours() / 24 / 365
		if cert.Subject.CommonName != "Alice Example" || cert.EmailAddresses[0] != "alice@example.com" || years < 1.99 || years > 2.01 {
			t.Fatalf("%s certificate: %s %v %.2f years", c.Usage, cert.Subject, cert.EmailAddresses, years)
		}
		if st, _ := p.ocspStatus(t, c.Certificate); st != ocsp.Good {
			t.Fatalf("OCSP of %s: %d", c.Usage, st)
		}
	}
	// The activation page now says the app enrolled; Next finishes.
	resp, body = p.get(t, alice, path)
	wantStatus(t, resp, body, http.StatusOK, "The app has enrolled")
	resp, body = p.post(t, alice, path+"/finish", nil)
	wantStatus(t, resp, body, http.StatusSeeOther)
	resp, body = p.get(t, alice, "/mobile-id")
	wantStatus(t, resp, body, http.StatusOK, "MobileID Alice Example", "Smart ID", "alice@example.com", "Test phone",
		"signature", "authentication", r.Certificates[0].Serial, ">good<", "Lock mobile ID")
	// Back and resubmit: the finished process changes nothing.
	resp, body = p.post(t, alice, path+"/finish", nil)
	wantStatus(t, resp, body, http.StatusSeeOther)
	if ms, _ := p.db.FindMobileIDs(t.Context(), user.ID, 100); len(ms) != 1 {
		t.Fatalf("%d mobile IDs after a repeated Next", len(ms))
	}

	// Authentication with the authentication key.
	c := &appclient.Client{BaseURL: p.URL}
	authenticate := func() (*appclient.VerifyResponse, error) {
		ch, err := c.Challenge(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		digest := sha256.Sum256(appclient.AuthPayload(appclient.Origin(p.URL), ch.ChallengeID, ch.Challenge))
		sig, _ := ecdsa.SignASN1(rand.Reader, ph.auth, digest[:])
		var authCert []byte
		for _, c := range r.Certificates {
			if c.Usage == "authentication" {
				authCert = c.Certificate
			}
		}
		return c.Verify(t.Context(), appclient.VerifyRequest{ChallengeID: ch.ChallengeID, Certificate: authCert, Signature: sig})
	}
	who, err := authenticate()
	if err != nil || who.Username != "alice" {
		t.Fatalf("authenticate: %+v %v", who, err)
	}
	if _, err := c.Sync(t.Context(), r.MobileID, ph.auth); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if _, err := c.Sync(t.Context(), r.MobileID, ph.sig); apiCode(err) != "unauthorized" {
		t.Fatalf("sync signed with the wrong key: %v", err)
	}

	// Lock from the Mobile ID page: revoked, and authentication fails.
	resp, body = p.post(t, alice, "/mobile-id/"+r.MobileID+"/lock", nil)
	wantStatus(t, resp, body, http.StatusSeeOther)
	for _, c := range r.Certificates {
		if st, _ := p.ocspStatus(t, c.Certificate); st != ocsp.Revoked {
			t.Fatalf("OCSP after lock: %d", st)
		}
	}
	if _, err := authenticate(); apiCode(err) != "unauthorized" {
		t.Fatalf("authenticate after lock: %v", err)
	}
	// The locked phone learns its state from a sync, and nothing else; a
	// signature by another key still learns nothing.
	if s, err := c.Sync(t.Context(), r.MobileID, ph.auth); err != nil || s.State != "locked" || len(s.EncryptionKeys) != 0 {
		t.Fatalf("sync after lock: %+v %v", s, err)
	}
	if _, err := c.Sync(t.Context(), r.MobileID, ph.sig); apiCode(err) != "unauthorized" {
		t.Fatalf("sync after lock signed with the wrong key: %v", err)
	}
}
