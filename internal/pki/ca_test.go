package pki_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"golang.org/x/crypto/ocsp"
)

// TestCAShape checks the CA certificates: names, lifetimes, constraints,
// and the chain served at /pki/ca.pem and exported for "lanyard ca export".
func TestCAShape(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.DSN(t, "sqlite")
	db := openDB(t, dsn)
	if _, err := pki.ExportChain(ctx, store.NewPKIStore(db)); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		t.Fatalf("export before the CA exists: %v", err)
	}
	e := newEnv(t, dsn, pki.Config{Organization: "Example Corp", Country: "DE"})
	root, issuer := e.ca.Root(), e.ca.Issuer()
	if root.Subject.String() != "CN=Example Corp Root CA,O=Example Corp,C=DE" || issuer.Subject.String() != "CN=Example Corp Issuing CA,O=Example Corp,C=DE" {
		t.Errorf("names %q, %q", root.Subject, issuer.Subject)
	}
	if !root.IsCA || !issuer.IsCA || !issuer.MaxPathLenZero || issuer.MaxPathLen != 0 {
		t.Errorf("basic constraints: root %v, issuing %v/%d", root.IsCA, issuer.IsCA, issuer.MaxPathLen)
	}
	if err := issuer.CheckSignatureFrom(root); err != nil {
		t.Errorf("issuing CA not signed by the root: %v", err)
	}
	if y := issuer.NotAfter.Sub(issuer.NotBefore).Hours() / 24 / 365; y < 9.9 || root.NotAfter.Before(issuer.NotAfter) {
		t.Errorf("lifetimes: root until %v, issuing %v to %v", root.NotAfter, issuer.NotBefore, issuer.NotAfter)
	}
	if issuer.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("signature algorithm %v", issuer.SignatureAlgorithm)
	}
	lintCert(t, "root CA with country", root.Raw)
	exported, err := pki.ExportChain(ctx, e.st)
	if err != nil || !bytes.Equal(exported, e.ca.ChainPEM()) {
		t.Fatalf("export: %v", err)
	}
	srv := httptest.NewServer(e.ca.Handler())
	defer srv.Close()
	if got := get(t, srv.URL+"/pki/ca.pem", "application/pem-certificate-chain"); !bytes.Equal(got, exported) {
		t.Fatal("/pki/ca.pem differs from the export")
	}
	if got := get(t, srv.URL+"/pki/ca.cer", "application/pkix-cert"); !bytes.Equal(got, issuer.Raw) {
		t.Fatal("/pki/ca.cer is not the issuing CA")
	}
}

// TestRSACA creates an RSA 3072 CA and checks that it issues, lints, and
// signs CRLs and OCSP responses that verify.
func TestRSACA(t *testing.T) {
	if testing.Short() {
		t.Skip("RSA 3072 key generation is slow")
	}
	openssl := testenv.OpenSSL(t)
	e := newEnv(t, testenv.DSN(t, "sqlite"), pki.Config{KeyAlgorithm: pki.RSA3072})
	if k, ok := e.ca.Issuer().PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 3072 {
		t.Fatalf("issuing CA key %T", e.ca.Issuer().PublicKey)
	}
	lintCert(t, "RSA root CA", e.ca.Root().Raw)
	lintCert(t, "RSA issuing CA", e.ca.Issuer().Raw)
	c, _ := e.issue(t, e.alice, lanyard.UsageSignature)
	lintCert(t, "signature (RSA CA)", c.DER)
	dir := t.TempDir()
	testenv.Run(t, openssl, "verify", "-CAfile", writePEM(t, dir, "root.pem", "CERTIFICATE", e.ca.Root().Raw),
		"-untrusted", writePEM(t, dir, "issuing.pem", "CERTIFICATE", e.ca.Issuer().Raw),
		"-purpose", "smimesign", writePEM(t, dir, "sig.pem", "CERTIFICATE", c.DER))

	srv := httptest.NewServer(e.ca.Handler())
	defer srv.Close()
	req, _ := ocsp.CreateRequest(mustParse(t, c.DER), e.ca.Issuer(), nil)
	body, _ := ocspQuery(t, srv.URL, req, false)
	resp, err := ocsp.ParseResponse(body, e.ca.Issuer())
	if err != nil || resp.Status != ocsp.Good {
		t.Fatalf("OCSP: %v", err)
	}
	lintOCSP(t, resp)
	crl, err := x509.ParseRevocationList(get(t, srv.URL+"/pki/crl", "application/pkix-crl"))
	if err != nil || crl.CheckSignatureFrom(e.ca.Issuer()) != nil {
		t.Fatalf("CRL: %v", err)
	}
}

// TestCRLAcrossInstances revokes on one instance and reads the CRL on
// another: both serve the same bytes, and a refresh raises the number.
func TestCRLAcrossInstances(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := newTestClock(time.Now())
		clock := clk.Now
		e := newEnv(t, dsn, pki.Config{Now: clock})
		other := e.openInstance(t, dsn, clock)
		c, _ := e.issue(t, e.alice, lanyard.UsageSignature)
		if _, err := e.ca.RevokeCertificate(ctx, actor, c.Serial, lanyard.ReasonCessationOfOperation); err != nil {
			t.Fatal(err)
		}
		// The instance that revoked publishes; the other loads what it
		// published in its periodic round, and serves it from memory.
		if err := e.ca.PublishOwedCRL(ctx); err != nil {
			t.Fatal(err)
		}
		if err := other.PublishCRLs(ctx); err != nil {
			t.Fatal(err)
		}
		a, _ := e.ca.CRL(ctx)
		b, _ := other.CRL(ctx)
		if !bytes.Equal(a.DER, b.DER) {
			t.Fatal("the instances serve different CRLs")
		}
		crl, err := x509.ParseRevocationList(b.DER)
		if err != nil || len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].ReasonCode != 5 {
			t.Fatalf("CRL: %v %+v", err, crl)
		}
		if !crl.NextUpdate.Equal(crl.ThisUpdate.Add(24 * time.Hour)) {
			t.Errorf("thisUpdate %v, nextUpdate %v", crl.ThisUpdate, crl.NextUpdate)
		}
		// The scheduled refresh, years later: the expired certificate
		// leaves the CRL, and the number goes on rising.
		clk.Set(clk.Now().AddDate(3, 0, 0))
		if err := other.RefreshCRL(ctx); err != nil {
			t.Fatal(err)
		}
		// PublishOwedCRL waits for a CRL this instance may be making
		// in the background, where PublishCRLs would leave it to that.
		if err := e.ca.PublishOwedCRL(ctx); err != nil {
			t.Fatal(err)
		}
		latest, _ := e.ca.CRL(ctx)
		next, _ := x509.ParseRevocationList(latest.DER)
		if next.Number.Cmp(crl.Number) <= 0 || len(next.RevokedCertificateEntries) != 0 {
			t.Fatalf("after refresh: number %v (was %v), %d entries", next.Number, crl.Number, len(next.RevokedCertificateEntries))
		}
	})
}
