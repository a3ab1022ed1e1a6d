package cms_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"
)

// identity is a certificate with its key, as the tests make them.
type identity struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// testPKI is a root CA, an issuing CA and end-entity certificates of the
// kinds a mobile ID holds.
type testPKI struct {
	root, issuing identity
	signP256      identity // digitalSignature + nonRepudiation, emailProtection
	signP384      identity
	signRSA       identity
	encryption    identity // RSA 2048, keyEncipherment, emailProtection
	other         identity // another user's encryption certificate
}

var (
	pkiOnce sync.Once
	pki     *testPKI
)

// loadPKI makes the test certificates once per test binary: RSA key
// generation is slow under the race detector.
func loadPKI(tb testing.TB) *testPKI {
	tb.Helper()
	pkiOnce.Do(func() {
		p := &testPKI{}
		p.root = newCert(tb, "Lanyard Test Root", nil, ecKey(tb, elliptic.P256()), true, 0, nil)
		p.issuing = newCert(tb, "Lanyard Test Issuing CA", &p.root, ecKey(tb, elliptic.P256()), true, 0, nil)
		sign := x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
		p.signP256 = newCert(tb, "Alice Signer", &p.issuing, ecKey(tb, elliptic.P256()), false, sign, []string{"alice@example.com"})
		p.signP384 = newCert(tb, "Alice P-384", &p.issuing, ecKey(tb, elliptic.P384()), false, sign, []string{"alice@example.com"})
		p.signRSA = newCert(tb, "Alice RSA", &p.issuing, rsaKey(tb), false, sign, []string{"alice@example.com"})
		p.encryption = newCert(tb, "Alice Encryption", &p.issuing, rsaKey(tb), false, x509.KeyUsageKeyEncipherment, []string{"alice@example.com"})
		p.other = newCert(tb, "Bob Encryption", &p.issuing, rsaKey(tb), false, x509.KeyUsageKeyEncipherment, []string{"bob@example.com"})
		pki = p
	})
	if pki == nil {
		tb.Fatal("test PKI could not be made")
	}
	return pki
}

func ecKey(tb testing.TB, c elliptic.Curve) crypto.Signer {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func rsaKey(tb testing.TB) crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// newCert makes a certificate for key, signed by parent or self-signed.
func newCert(tb testing.TB, cn string, parent *identity, key crypto.Signer, ca bool, usage x509.KeyUsage, emails []string) identity {
	tb.Helper()
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		tb.Fatal(err)
	}
	ski := sha1.Sum(spki)
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Lanyard Test"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              usage,
		EmailAddresses:        emails,
		BasicConstraintsValid: true,
		IsCA:                  ca,
		SubjectKeyId:          ski[:],
	}
	if ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
	}
	signerCert, signerKey := tmpl, key
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signerKey)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return identity{cert: cert, key: key}
}
