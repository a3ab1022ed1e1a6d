package cms_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/cms"
)

func TestSignDetachedVerifiesWithOpenSSL(t *testing.T) {
	requireOpenSSL(t)
	p := loadPKI(t)
	content := []byte("I agree to the terms.\r\nSigned on the phone.\n\x00\xff binary tail")
	tests := []struct {
		name   string
		signer identity
		chain  []*x509.Certificate
	}{
		{"ECDSA P-256 with issuing CA", p.signP256, []*x509.Certificate{p.issuing.cert}},
		{"ECDSA P-256 with full chain", p.signP256, []*x509.Certificate{p.issuing.cert, p.root.cert}},
		{"ECDSA P-384", p.signP384, []*x509.Certificate{p.issuing.cert}},
		{"RSA 2048", p.signRSA, []*x509.Certificate{p.issuing.cert}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := cms.SignDetached(content, tt.signer.cert, tt.chain, tt.signer.key)
			if err != nil {
				t.Fatalf("SignDetached: %v", err)
			}
			dir := t.TempDir()
			writeFile(t, dir, "F", content)
			writeFile(t, dir, "F.p7s", sig)
			writeFile(t, dir, "root.pem", certPEM(p.root.cert))
			for _, purpose := range []string{"smimesign", "any"} {
				if _, err := openssl(t, dir, "cms", "-verify", "-binary", "-inform", "DER", "-in", "F.p7s",
					"-content", "F", "-CAfile", "root.pem", "-purpose", purpose, "-out", "/dev/null"); err != nil {
					t.Errorf("openssl cms -verify -purpose %s: %v", purpose, err)
				}
			}
		})
	}
}

func TestSignDetachedTamperedContentFails(t *testing.T) {
	requireOpenSSL(t)
	p := loadPKI(t)
	sig, err := cms.SignDetached([]byte("pay 10 EUR"), p.signP256.cert, []*x509.Certificate{p.issuing.cert}, p.signP256.key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "F", []byte("pay 99 EUR"))
	writeFile(t, dir, "F.p7s", sig)
	writeFile(t, dir, "root.pem", certPEM(p.root.cert))
	if _, err := openssl(t, dir, "cms", "-verify", "-binary", "-inform", "DER", "-in", "F.p7s",
		"-content", "F", "-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null"); err == nil {
		t.Fatal("openssl verified a signature over tampered content")
	}
}

func TestSignDetachedRefusesBadKeys(t *testing.T) {
	p := loadPKI(t)
	ed, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		run  func() ([]byte, error)
	}{
		{"key of another certificate", func() ([]byte, error) {
			return cms.SignDetached([]byte("x"), p.signP256.cert, nil, p.signP384.key)
		}},
		{"unsupported curve", func() ([]byte, error) { return cms.SignDetached([]byte("x"), p.signP256.cert, nil, ed) }},
		{"no certificate", func() ([]byte, error) { return cms.SignDetached([]byte("x"), nil, nil, p.signP256.key) }},
		{"no key", func() ([]byte, error) { return cms.SignDetached([]byte("x"), p.signP256.cert, nil, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := tt.run()
			if err == nil || sig != nil {
				t.Fatalf("SignDetached = %d bytes, %v; want an error", len(sig), err)
			}
			if code := lanyard.ErrorCode(err); code != lanyard.EINVALID {
				t.Errorf("error code = %q, want %q (%v)", code, lanyard.EINVALID, err)
			}
		})
	}
}
