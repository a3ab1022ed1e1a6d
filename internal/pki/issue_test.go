package pki_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestProfilesWithOpenSSL issues one certificate of each profile and checks
// them as a relying party would: openssl verify with the profile's purpose,
// S/MIME encryption to the encryption certificate and decryption with the
// key recovered from the archive, and zlint on every certificate.
func TestProfilesWithOpenSSL(t *testing.T) {
	openssl := testenv.OpenSSL(t)
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn, pki.Config{})
		dir := t.TempDir()
		root := writePEM(t, dir, "root.pem", "CERTIFICATE", e.ca.Root().Raw)
		issuing := writePEM(t, dir, "issuing.pem", "CERTIFICATE", e.ca.Issuer().Raw)
		chain := filepath.Join(dir, "chain.pem")
		os.WriteFile(chain, e.ca.ChainPEM(), 0o600)
		lintCert(t, "root CA", e.ca.Root().Raw)
		lintCert(t, "issuing CA", e.ca.Issuer().Raw)

		sig, _ := e.issue(t, e.alice, lanyard.UsageSignature)
		auth, _ := e.issue(t, e.alice, lanyard.UsageAuthentication)
		enc, key, err := e.ca.IssueEncryptionCertificate(ctx, actor, e.alice, 0, 2)
		if err != nil {
			t.Fatalf("issue encryption certificate: %v", err)
		}
		if key.N.BitLen() != 2048 || enc.ArchivedKeyID == 0 {
			t.Fatalf("encryption key: %d bits, archive %d", key.N.BitLen(), enc.ArchivedKeyID)
		}
		for _, tc := range []struct {
			cert    *lanyard.Certificate
			purpose string
		}{{sig, "smimesign"}, {auth, "sslclient"}, {enc, "smimeencrypt"}} {
			t.Run(string(tc.cert.Usage), func(t *testing.T) {
				checkSubject(t, tc.cert, e.alice)
				lintCert(t, string(tc.cert.Usage), tc.cert.DER)
				file := writePEM(t, dir, string(tc.cert.Usage)+".pem", "CERTIFICATE", tc.cert.DER)
				out := testenv.Run(t, openssl, "verify", "-CAfile", root, "-untrusted", issuing, "-purpose", tc.purpose, file)
				if !strings.Contains(out, ": OK") {
					t.Fatalf("openssl verify: %s", out)
				}
				testenv.Run(t, openssl, "verify", "-CAfile", chain, "-purpose", tc.purpose, file)
			})
		}
		// A certificate of the wrong profile does not pass another purpose.
		if out, err := runOpenSSL(openssl, "verify", "-CAfile", chain, "-purpose", "smimeencrypt",
			writePEM(t, dir, "auth-as-enc.pem", "CERTIFICATE", auth.DER)); err == nil {
			t.Errorf("authentication certificate verified for smimeencrypt: %s", out)
		}

		// Encrypt to the certificate, then decrypt with the recovered key.
		msg := filepath.Join(dir, "msg.txt")
		os.WriteFile(msg, []byte("meet me at the usual place\n"), 0o600)
		encFile := filepath.Join(dir, "encryption.pem")
		p7m := filepath.Join(dir, "msg.p7m")
		testenv.Run(t, openssl, "cms", "-encrypt", "-binary", "-aes256", "-in", msg, "-out", p7m, encFile)
		recovered, err := e.ca.RecoverKey(ctx, actor, e.alice.ID, enc.Serial)
		if err != nil {
			t.Fatalf("recover key: %v", err)
		}
		if !recovered.Equal(key) {
			t.Fatal("the recovered key is not the issued one")
		}
		pkcs8, _ := x509.MarshalPKCS8PrivateKey(recovered)
		keyFile := writePEM(t, dir, "recovered.key", "PRIVATE KEY", pkcs8)
		out := testenv.Run(t, openssl, "cms", "-decrypt", "-in", p7m, "-recip", encFile, "-inkey", keyFile)
		if out != "meet me at the usual place\n" {
			t.Fatalf("decrypted %q", out)
		}
	})
}

// checkSubject checks that the certificate names the user and nobody else.
func checkSubject(t *testing.T, c *lanyard.Certificate, u *lanyard.User) {
	t.Helper()
	x := mustParse(t, c.DER)
	if x.Subject.CommonName != u.CommonName || len(x.Subject.Names) != 1 {
		t.Errorf("subject %v, want only CN=%s", x.Subject, u.CommonName)
	}
	if !slices.Equal(x.EmailAddresses, []string{u.Email}) || len(x.DNSNames)+len(x.URIs)+len(x.IPAddresses) > 0 {
		t.Errorf("SAN %v %v %v %v, want only %s", x.EmailAddresses, x.DNSNames, x.URIs, x.IPAddresses, u.Email)
	}
	if pki.SerialString(x.SerialNumber) != c.Serial || x.SerialNumber.BitLen() < 64 {
		t.Errorf("serial %x, stored %s", x.SerialNumber, c.Serial)
	}
	shard := x.NotAfter.UTC().Format("20060102")
	if !slices.Equal(x.CRLDistributionPoints, []string{"http://127.0.0.1:8080/pki/crl/" + shard}) || c.CRLShard != shard ||
		!slices.Equal(x.OCSPServer, []string{"http://127.0.0.1:8080/pki/ocsp"}) {
		t.Errorf("CRL DP %v, OCSP %v", x.CRLDistributionPoints, x.OCSPServer)
	}
	if years := x.NotAfter.Sub(x.NotBefore).Hours() / 24 / 365; years < 1.99 || years > 2.01 {
		t.Errorf("validity %v to %v, want 2 years", x.NotBefore, x.NotAfter)
	}
	if !bytes.Equal(x.Raw, c.DER) || c.Status != lanyard.CertificateValid || c.UserID != u.ID {
		t.Errorf("stored certificate %+v", c)
	}
}
