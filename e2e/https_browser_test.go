package e2e_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserOverHTTPS logs in with a real Chromium over the server's own
// HTTPS: the pages are a secure context (what the phone app needs for its
// keys), and the session cookie is Secure.
func TestBrowserOverHTTPS(t *testing.T) {
	files := newTLSFiles(t)
	files.issue(7)
	s := startServer(t, newInstance(t, "sqlite"), "--tls-cert", files.cert, "--tls-key", files.key)
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
	b := newBrowserTrusting(t, s.url, files.cert)
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
	s.stopOK()
}

// newBrowserTrusting starts Chromium as newBrowser does, trusting the
// server's certificate in certFile by its public key, as a browser trusts
// a certificate of a CA it knows.
func newBrowserTrusting(t *testing.T, base, certFile string) *browser {
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
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start Chromium: %v", err)
		}
	case <-time.After(browserStartTimeout):
		cancel()
		t.Fatalf("Chromium did not start within %s", browserStartTimeout)
	}
	return &browser{t: t, ctx: ctx, base: base, shots: screenshotDir(t)}
}
