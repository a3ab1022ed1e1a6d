package wallet_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/wallet"
)

// TestMain makes the key derivation cheap: the tests check the wallet, not
// argon2id. TestDefaultKDF covers the real parameters.
func TestMain(m *testing.M) {
	packageDefaultKDF = wallet.DefaultKDF
	wallet.DefaultKDF = wallet.KDFParams{Memory: 64, Time: 1, Threads: 1}
	os.Exit(m.Run())
}

// packageDefaultKDF is DefaultKDF as the package sets it.
var packageDefaultKDF wallet.KDFParams

const testPIN = "4711-secret"

var (
	caOnce sync.Once
	caCert *x509.Certificate
	caKey  crypto.Signer
)

// testCA returns a CA certificate and key shared by the tests.
func testCA(tb testing.TB) (*x509.Certificate, crypto.Signer) {
	tb.Helper()
	caOnce.Do(func() {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Lanyard Test CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
			BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			panic(err)
		}
		caCert, _ = x509.ParseCertificate(der)
		caKey = key
	})
	return caCert, caKey
}

// certify makes a certificate for pub, valid from notBefore for a day.
func certify(tb testing.TB, cn string, pub crypto.PublicKey, notBefore time.Time) *x509.Certificate {
	tb.Helper()
	ca, key := testCA(tb)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: notBefore, NotAfter: notBefore.Add(24 * time.Hour), EmailAddresses: []string{"alice@example.com"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, pub, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return cert
}

// newProfile returns an active profile with fresh device keys, signature
// and authentication certificates, a current and a recovered encryption
// certificate with their RSA keys, and the CA chain.
func newProfile(tb testing.TB, name, server string) wallet.Profile {
	tb.Helper()
	ca, _ := testCA(tb)
	p := wallet.Profile{ProfileName: name, ServerName: server, UserID: name + "@example.com",
		ServerURL: "https://" + server + ".example.com", DeviceName: "test phone", State: wallet.StateActive,
		DeviceCredential: "device-credential-" + name}
	if err := p.GenerateKeys(); err != nil {
		tb.Fatal(err)
	}
	now := time.Now().Add(-time.Minute)
	encNew, encOld := rsaKey(tb), rsaKey(tb)
	p.Certificates = []wallet.Certificate{
		{Usage: wallet.UsageSignature, Certificate: certify(tb, name, p.SignatureKey.Public(), now)},
		{Usage: wallet.UsageAuthentication, Certificate: certify(tb, name, p.AuthenticationKey.Public(), now)},
		{Usage: wallet.UsageEncryption, Certificate: certify(tb, name, encNew.Public(), now), Key: encNew},
		{Usage: wallet.UsageEncryption, Recovered: true, Certificate: certify(tb, name, encOld.Public(), now.Add(-72*time.Hour)), Key: encOld},
	}
	p.CAChain = []*x509.Certificate{ca}
	return p
}

var (
	rsaOnce sync.Once
	rsaPool [4]*rsa.PrivateKey
	rsaNext atomic.Int32
)

// rsaKey returns one of four RSA 2048 keys, in turn: generating them is
// slow under the race detector, and two profiles made one after the other
// still get distinct keys.
func rsaKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	rsaOnce.Do(func() {
		for i := range rsaPool {
			rsaPool[i], _ = rsa.GenerateKey(rand.Reader, 2048)
		}
	})
	k := rsaPool[int(rsaNext.Add(1))%len(rsaPool)]
	if k == nil {
		tb.Fatal("RSA key generation failed")
	}
	return k
}

// walletFile returns the raw bytes of the wallet file in dir.
func walletFile(tb testing.TB, dir string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, wallet.FileName))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// sortedKeys returns the keys of a JSON object in order.
func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
