//go:build cgo

package pki_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ThalesGroup/crypto11"
	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"github.com/miekg/pkcs11"
	"golang.org/x/crypto/ocsp"
)

// TestPKCS11CA runs a CA whose keys live in a SoftHSM2 token: it issues a
// certificate of every profile and openssl verifies them, signs OCSP
// responses and a CRL that openssl verifies, keeps no key material in the
// database, and works again after a restart that finds the keys by label.
func TestPKCS11CA(t *testing.T) {
	openssl := testenv.OpenSSL(t)
	token := newSoftHSM(t)
	ctx := context.Background()
	dsn := testenv.DSN(t, "sqlite")
	e := newEnv(t, dsn, pki.Config{Backend: openPKCS11(t, token)})
	rec, err := e.st.FindCA(ctx)
	if err != nil || rec.Backend != "pkcs11" {
		t.Fatalf("CA record: %v, backend %q", err, rec.Backend)
	}
	lintCert(t, "root CA (PKCS#11)", e.ca.Root().Raw)
	lintCert(t, "issuing CA (PKCS#11)", e.ca.Issuer().Raw)

	dir := t.TempDir()
	chain := filepath.Join(dir, "chain.pem")
	os.WriteFile(chain, e.ca.ChainPEM(), 0o600)
	root := writePEM(t, dir, "root.pem", "CERTIFICATE", e.ca.Root().Raw)
	issuing := writePEM(t, dir, "issuing.pem", "CERTIFICATE", e.ca.Issuer().Raw)
	verify := func(name string, c *lanyard.Certificate, purpose string) string {
		t.Helper()
		file := writePEM(t, dir, name+".pem", "CERTIFICATE", c.DER)
		if out := testenv.Run(t, openssl, "verify", "-CAfile", chain, "-purpose", purpose, file); !strings.Contains(out, ": OK") {
			t.Fatalf("openssl verify %s: %s", name, out)
		}
		return file
	}
	sig, _ := e.issue(t, e.alice, lanyard.UsageSignature)
	auth, _ := e.issue(t, e.alice, lanyard.UsageAuthentication)
	enc, _, err := e.ca.IssueEncryptionCertificate(ctx, actor, e.alice, 0, 2)
	if err != nil {
		t.Fatalf("issue encryption certificate: %v", err)
	}
	sigFile := verify("signature", sig, "smimesign")
	authFile := verify("authentication", auth, "sslclient")
	verify("encryption", enc, "smimeencrypt")

	// The token signs concurrently, as the CA does under load.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { e.issue(t, e.bob, lanyard.UsageAuthentication) })
	}
	wg.Wait()

	// Revoke one: OCSP answers and the CRL are signed in the token.
	if _, err := e.ca.RevokeCertificate(ctx, actor, sig.Serial, lanyard.ReasonKeyCompromise); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	srv := httptest.NewServer(e.ca.Handler())
	defer srv.Close()
	for file, want := range map[string]string{sigFile: "revoked", authFile: "good"} {
		out := testenv.Run(t, openssl, "ocsp", "-issuer", issuing, "-cert", file, "-url", srv.URL+"/pki/ocsp",
			"-CAfile", root, "-verify_other", issuing)
		if !strings.Contains(out, "Response verify OK") || !strings.Contains(out, file+": "+want) {
			t.Fatalf("openssl ocsp: want %s, got\n%s", want, out)
		}
	}
	// CRLs are made in the background; the server's periodic work would
	// publish this one within seconds.
	if err := e.ca.PublishOwedCRL(ctx); err != nil {
		t.Fatal(err)
	}
	crl := filepath.Join(dir, "crl.der")
	os.WriteFile(crl, get(t, srv.URL+"/pki/crl", "application/pkix-crl"), 0o600)
	out := testenv.Run(t, openssl, "crl", "-inform", "DER", "-in", crl, "-CAfile", chain, "-noout", "-text")
	if !strings.Contains(out, "verify OK") || !strings.Contains(strings.ToLower(out), "serial number: "+strings.ToLower(sig.Serial)) {
		t.Fatalf("openssl crl, want %s listed:\n%s", sig.Serial, out)
	}

	t.Run("keys stay in the token", func(t *testing.T) {
		checkTokenKeys(t, token, rec, e)
		dump := dumpSQLite(t, dsn)
		if !strings.Contains(dump, hex.EncodeToString(e.ca.Issuer().Raw[:40])) {
			t.Fatal("the dump does not hold the issuing CA certificate; it would prove nothing")
		}
		if strings.Contains(dump, "ca_keys:") {
			t.Error("the database holds CA keys in ca_keys")
		}
		for _, label := range []string{rec.RootKeyLabel, rec.IssuingKeyLabel} {
			if n := strings.Count(dump, label); n != 1 {
				t.Errorf("label %s appears %d times in the database; want once, in the CA record", label, n)
			}
		}
	})

	t.Run("restart", func(t *testing.T) {
		again, err := pki.Open(ctx, e.st, pki.Config{PublicURL: e.cfg.PublicURL, DataDir: e.cfg.DataDir,
			Backend: openPKCS11(t, token)})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if !again.Root().Equal(e.ca.Root()) || !again.Issuer().Equal(e.ca.Issuer()) {
			t.Fatal("the reopened CA has other certificates")
		}
		e.ca = again
		c, _ := e.issue(t, e.bob, lanyard.UsageSignature)
		verify("after-restart", c, "smimesign")
	})
}

// checkTokenKeys looks at the CA keys in the token through an independent
// session: sensitive, never extractable, signing only, and their secret
// values refused; the signers the backend hands out hold no private key.
func checkTokenKeys(t *testing.T, token pki.PKCS11Config, rec *pki.CARecord, e *env) {
	t.Helper()
	inspect := inspectToken(t, token)
	for _, label := range []string{rec.RootKeyLabel, rec.IssuingKeyLabel} {
		key, err := inspect.FindKeyPair(nil, []byte(label))
		if err != nil {
			t.Fatalf("find %s: %v", label, err)
		}
		attrs, err := inspect.GetAttributes(key, []crypto11.AttributeType{pkcs11.CKA_SENSITIVE, pkcs11.CKA_ALWAYS_SENSITIVE,
			pkcs11.CKA_EXTRACTABLE, pkcs11.CKA_NEVER_EXTRACTABLE, pkcs11.CKA_PRIVATE, pkcs11.CKA_SIGN, pkcs11.CKA_DECRYPT, pkcs11.CKA_ID})
		if err != nil {
			t.Fatalf("attributes of %s: %v", label, err)
		}
		for _, a := range []struct {
			name string
			attr crypto11.AttributeType
			want byte
		}{
			{"CKA_SENSITIVE", pkcs11.CKA_SENSITIVE, 1}, {"CKA_ALWAYS_SENSITIVE", pkcs11.CKA_ALWAYS_SENSITIVE, 1},
			{"CKA_EXTRACTABLE", pkcs11.CKA_EXTRACTABLE, 0}, {"CKA_NEVER_EXTRACTABLE", pkcs11.CKA_NEVER_EXTRACTABLE, 1},
			{"CKA_PRIVATE", pkcs11.CKA_PRIVATE, 1}, {"CKA_SIGN", pkcs11.CKA_SIGN, 1}, {"CKA_DECRYPT", pkcs11.CKA_DECRYPT, 0},
		} {
			if v := attrs[a.attr].Value; len(v) != 1 || v[0] != a.want {
				t.Errorf("%s: %s is %v, want %d", label, a.name, v, a.want)
			}
		}
		if len(attrs[pkcs11.CKA_ID].Value) == 0 {
			t.Errorf("%s has no CKA_ID", label)
		}
		var secret crypto11.AttributeType = pkcs11.CKA_VALUE // the EC private scalar
		if _, ok := key.Public().(*rsa.PublicKey); ok {
			secret = pkcs11.CKA_PRIVATE_EXPONENT
		}
		if _, err := inspect.GetAttribute(key, secret); !errors.Is(err, pkcs11.Error(pkcs11.CKR_ATTRIBUTE_SENSITIVE)) {
			t.Errorf("%s: reading the private value gave %v, want CKR_ATTRIBUTE_SENSITIVE", label, err)
		}
	}
	signer := loadKey(t, e.cfg.Backend, rec.IssuingKeyLabel)
	switch signer.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey:
		t.Fatalf("the backend returned a software key %T", signer)
	}
	if _, err := x509.MarshalPKCS8PrivateKey(signer); err == nil {
		t.Fatal("the token signer marshals as PKCS#8")
	}
	if !signer.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(e.ca.Issuer().PublicKey) {
		t.Fatal("the issuing key in the token does not match the issuing CA")
	}
}

// TestPKCS11RSACA creates an RSA 3072 CA in the token and checks that its
// certificates, OCSP answers and CRL verify.
func TestPKCS11RSACA(t *testing.T) {
	if testing.Short() {
		t.Skip("RSA 3072 key generation is slow")
	}
	openssl := testenv.OpenSSL(t)
	token := newSoftHSM(t)
	e := newEnv(t, testenv.DSN(t, "sqlite"), pki.Config{KeyAlgorithm: pki.RSA3072, Backend: openPKCS11(t, token)})
	if k, ok := e.ca.Issuer().PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 3072 {
		t.Fatalf("issuing CA key %T", e.ca.Issuer().PublicKey)
	}
	rec, _ := e.st.FindCA(context.Background())
	checkTokenKeys(t, token, rec, e)
	lintCert(t, "RSA issuing CA (PKCS#11)", e.ca.Issuer().Raw)
	c, _ := e.issue(t, e.alice, lanyard.UsageSignature)
	dir := t.TempDir()
	testenv.Run(t, openssl, "verify", "-CAfile", writePEM(t, dir, "root.pem", "CERTIFICATE", e.ca.Root().Raw),
		"-untrusted", writePEM(t, dir, "issuing.pem", "CERTIFICATE", e.ca.Issuer().Raw),
		"-purpose", "smimesign", writePEM(t, dir, "sig.pem", "CERTIFICATE", c.DER))
	srv := httptest.NewServer(e.ca.Handler())
	defer srv.Close()
	req, _ := ocsp.CreateRequest(mustParse(t, c.DER), e.ca.Issuer(), nil)
	body, _ := ocspQuery(t, srv.URL, req, false)
	if resp, err := ocsp.ParseResponse(body, e.ca.Issuer()); err != nil || resp.Status != ocsp.Good {
		t.Fatalf("OCSP: %v", err)
	}
	crl, err := x509.ParseRevocationList(get(t, srv.URL+"/pki/crl", "application/pkix-crl"))
	if err != nil || crl.CheckSignatureFrom(e.ca.Issuer()) != nil {
		t.Fatalf("CRL: %v", err)
	}
}
