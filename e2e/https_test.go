package e2e_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tlsFiles issues server certificates for 127.0.0.1 from a CA of its own
// and writes them where `serve --tls-cert --tls-key` reads them.
type tlsFiles struct {
	t         *testing.T
	caCert    *x509.Certificate
	caKey     *ecdsa.PrivateKey
	cert, key string
}

func newTLSFiles(t *testing.T) *tlsFiles {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "HTTPS test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	dir := t.TempDir()
	return &tlsFiles{t: t, caCert: ca, caKey: key, cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem")}
}

// issue writes a new certificate with the given serial and its SEC1 key,
// each file replaced by a rename, as certificate tools do.
func (f *tlsFiles) issue(serial int64) {
	f.t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.caCert, key.Public(), f.caKey)
	if err != nil {
		f.t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.caCert.Raw})...)
	for path, data := range map[string][]byte{f.key: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), f.cert: chain} {
		if err := os.WriteFile(path+".new", data, 0o600); err != nil {
			f.t.Fatal(err)
		}
		if err := os.Rename(path+".new", path); err != nil {
			f.t.Fatal(err)
		}
	}
}

// client trusts the test CA only and opens a new connection per request,
// so that each request sees the certificate served at that moment.
func (f *tlsFiles) client() *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(f.caCert)
	return &http.Client{
		Timeout:       10 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TestHTTPSFromFiles serves HTTPS from certificate files with a plain-HTTP
// port beside it: the public URL defaults to https, cookies are Secure,
// answers carry HSTS, plain HTTP redirects, and a replaced certificate
// reaches the next connection.
func TestHTTPSFromFiles(t *testing.T) {
	files := newTLSFiles(t)
	files.issue(100)
	httpAddr := freeAddr(t)
	s := startServer(t, newInstance(t, "sqlite"), "--tls-cert", files.cert, "--tls-key", files.key, "--listen-http", httpAddr)
	s.url = "https://" + s.addr
	c := files.client()
	if !waitFor(readyTimeout, func() bool {
		resp, err := c.Get(s.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}) {
		t.Fatalf("not ready over HTTPS; stderr:\n%s", s.stderr)
	}
	if !waitFor(readyTimeout, func() bool { return len(adminPasswordLines(s.stdout.String())) > 0 }) {
		t.Fatal("no initial admin password")
	}
	pw := adminPassword(t, s.stdout.String())

	r := login(t, c, s.url, "admin", pw)
	ck := r.sessionCookie()
	if r.status != http.StatusSeeOther || ck == nil || !ck.Secure {
		t.Fatalf("login over HTTPS: %d, cookie %+v, want 303 and a Secure cookie", r.status, ck)
	}
	if hsts := r.header.Get("Strict-Transport-Security"); hsts != "max-age=31536000" {
		t.Fatalf("Strict-Transport-Security = %q", hsts)
	}
	// The certificates the CA issues name the https:// public URL.
	pemChain := fetch(t, c, s.url+"/pki/ca.pem", nil)
	if pemChain.status != http.StatusOK {
		t.Fatalf("GET /pki/ca.pem: %d", pemChain.status)
	}

	t.Run("redirect", func(t *testing.T) {
		for _, tc := range []struct {
			form url.Values
			code int
		}{{nil, http.StatusMovedPermanently}, {url.Values{"a": {"b"}}, http.StatusPermanentRedirect}} {
			r := fetch(t, nil, "http://"+httpAddr+"/login?next=%2Fmobile-id", tc.form)
			if want := s.url + "/login?next=%2Fmobile-id"; r.status != tc.code || r.header.Get("Location") != want {
				t.Fatalf("plain HTTP: %d %s, want %d %s", r.status, r.header.Get("Location"), tc.code, want)
			}
		}
	})

	t.Run("replaced certificate", func(t *testing.T) {
		serial := func() int64 {
			resp, err := c.Get(s.url + "/healthz")
			if err != nil {
				t.Fatalf("GET /healthz: %v", err)
			}
			resp.Body.Close()
			return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
		}
		if got := serial(); got != 100 {
			t.Fatalf("serving certificate %d, want 100", got)
		}
		files.issue(101)
		if !waitFor(10*time.Second, func() bool { return serial() == 101 }) {
			t.Fatalf("still serving %d within 10 s of the replacement", serial())
		}
	})
	if strings.Contains(s.stderr.String(), "panic") {
		t.Fatalf("stderr:\n%s", s.stderr)
	}
	s.stopOK()
}
