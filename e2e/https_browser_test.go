package e2e_test

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserOverHTTPS logs in with a real Chromium over the server's own
// HTTPS: the pages are a secure context (what the phone app needs for its
// keys), and the session cookie is Secure. Then the phone app, over the
// same HTTPS, activates a mobile ID that the desktop shows active.
func TestBrowserOverHTTPS(t *testing.T) {
	files := newTLSFiles(t)
	files.issue(7)
	in := newInstance(t, "sqlite")
	s := startServer(t, in, "--tls-cert", files.cert, "--tls-key", files.key)
	s.url = "https://" + s.addr
	c := files.client()
	if !waitFor(readyTimeout, func() bool {
		resp, err := c.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}) {
		t.Fatalf("not ready over HTTPS; stderr:\n%s", s.stderr)
	}
	if !waitFor(readyTimeout, func() bool { return len(adminPasswordLines(s.stdout.String())) > 0 }) {
		t.Fatal("no initial admin password")
	}
	trust := trusting(t, files.cert)
	b := newBrowser(t, s.url, trust)
	b.open("/login")
	b.waitHeading("Log in to Self-Service")
	if status := b.fillLogin("admin", adminPassword(t, s.stdout.String())); status != 200 {
		t.Fatalf("login over HTTPS led to status %d", status)
	}
	b.screenshot("after-login")
	if secure := step(b, "read window.isSecureContext", chromedp.Evaluate[bool]("window.isSecureContext && location.protocol === 'https:' && !!crypto.subtle")); !secure {
		t.Fatal("the page over HTTPS is not a secure context with WebCrypto")
	}
	if ck := b.sessionCookie(); ck == nil || !ck.Secure || !ck.HTTPOnly {
		t.Fatalf("session cookie %+v, want a Secure, HttpOnly cookie", ck)
	}

	// The phone app over this HTTPS.
	pw := "alice-" + randomText()
	addUser(t, in, "alice", pw)
	desktop := newBrowser(t, s.url, trust)
	desktop.open("/login")
	desktop.fillLogin("alice", pw)
	desktop.waitHeading("What do you want to do?")
	link := desktopActivation(t, desktop, "Next")
	phone := newWalletPhone(t, s.url, "phone", trust)
	device := phoneActivate(t, phone, link)
	desktopFinish(t, desktop, device)
	if a := phone.auditStorage(); a.PrivateKeys < 3 || len(a.Extractable) > 0 || a.Registrations != 1 {
		t.Errorf("the app over HTTPS stores %d private keys (extractable: %q) with %d service workers, want 3 or more, none, 1",
			a.PrivateKeys, a.Extractable, a.Registrations)
	}
	s.stopOK()
}

// trusting is the Chromium option that trusts the server's certificate in
// certFile by its public key, as a browser trusts a certificate of a CA it
// knows.
func trusting(t *testing.T, certFile string) chromedp.ExecAllocatorOption {
	t.Helper()
	data, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	spki := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	return chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:]))
}
