package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/wallet"
)

// TestMain makes the wallet's key derivation and the wait for recovered
// keys cheap: these tests check the app, not argon2id.
func TestMain(m *testing.M) {
	wallet.DefaultKDF = wallet.KDFParams{Memory: 64, Time: 1, Threads: 1}
	recoveryDelay = 10 * time.Millisecond
	os.Exit(m.Run())
}

const testPIN = "2468-pin"

// result is what one run of lanyard-app gave.
type result struct {
	code           int
	stdout, stderr string
}

// runApp runs lanyard-app in-process with args and stdin.
func runApp(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// wantFailure checks that r failed with exit code code and one line on
// stderr containing want.
func wantFailure(t *testing.T, r result, code int, want string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if r.code != code || len(lines) != 1 || !strings.HasPrefix(lines[0], "lanyard-app: ") || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr %q; want exit %d and one line with %q", r.code, r.stderr, code, want)
	}
}

// pinFile writes the PIN with a trailing newline, as editors do, and
// returns the file's path.
func pinFile(t *testing.T, pin string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(path, []byte(pin+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testCA is a CA that certifies keys for the tests.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// newCA makes a CA certificate and key.
func newCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Lanyard Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert, key}
}

// certify certifies pub for usage as Lanyard's profiles would, for Alice.
func (ca *testCA) certify(t *testing.T, usage wallet.Usage, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "Alice Example"},
		EmailAddresses: []string{"alice@example.com"}, NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour)}
	switch usage {
	case wallet.UsageSignature:
		tmpl.KeyUsage, tmpl.ExtKeyUsage = x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment, []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
	case wallet.UsageAuthentication:
		tmpl.KeyUsage, tmpl.ExtKeyUsage = x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case wallet.UsageEncryption:
		tmpl.KeyUsage, tmpl.ExtKeyUsage = x509.KeyUsageKeyEncipherment, []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// writePEM writes certificates to a PEM file in dir and returns its path.
func writePEM(t *testing.T, dir, name string, certs ...*x509.Certificate) string {
	t.Helper()
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var (
	rsaOnce sync.Once
	rsaKeys [2]*rsa.PrivateKey
)

// rsaKey returns one of two RSA keys made once: generating them is slow
// under the race detector.
func rsaKey(t *testing.T, i int) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		for j := range rsaKeys {
			rsaKeys[j], _ = rsa.GenerateKey(rand.Reader, 2048)
		}
	})
	return rsaKeys[i]
}

// newWallet creates a wallet in a new folder holding one active profile
// with signature, authentication, encryption and recovered encryption
// certificates, and returns the folder.
func newWallet(t *testing.T, ca *testCA) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "wallet")
	w, err := wallet.Create(dir, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	p := wallet.Profile{ProfileName: "MobileID Alice Example", ServerName: "Smart ID", UserID: "alice@example.com",
		ServerURL: "http://127.0.0.1:1", DeviceName: "test", State: wallet.StateActive, MobileID: "m-1"}
	if err := p.GenerateKeys(); err != nil {
		t.Fatal(err)
	}
	p.Certificates = []wallet.Certificate{
		{Usage: wallet.UsageSignature, Certificate: ca.certify(t, wallet.UsageSignature, p.SignatureKey.Public())},
		{Usage: wallet.UsageAuthentication, Certificate: ca.certify(t, wallet.UsageAuthentication, p.AuthenticationKey.Public())},
		{Usage: wallet.UsageEncryption, Certificate: ca.certify(t, wallet.UsageEncryption, rsaKey(t, 0).Public()), Key: rsaKey(t, 0)},
		{Usage: wallet.UsageEncryption, Recovered: true, Certificate: ca.certify(t, wallet.UsageEncryption, rsaKey(t, 1).Public()), Key: rsaKey(t, 1)},
	}
	p.CAChain = []*x509.Certificate{ca.cert}
	if _, err := w.AddProfile(p); err != nil {
		t.Fatal(err)
	}
	if err := w.Save(); err != nil {
		t.Fatal(err)
	}
	return dir
}
