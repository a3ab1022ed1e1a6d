package pki_test

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestSignCheckedRequest checks that a request checked once is signed for
// the key it names, and that signing it cannot skip a check: not for a
// user whose address the request does not allow, not without a user, not
// without a checked request, and never for encryption.
func TestSignCheckedRequest(t *testing.T) {
	e := newEnv(t, testenv.DSN(t, "sqlite"), pki.Config{})
	key := newKey(t)
	// The request names Alice's address, so it is Alice's alone.
	req, err := pki.CheckCSR(makeCSR(t, key, pkix.Name{}, "alice@example.com"), e.alice)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.ca.SignCheckedRequest(e.alice, lanyard.UsageSignature, req, 1)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(c.DER)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cert.RawSubjectPublicKeyInfo, req.PublicKeyInfo()) || cert.Subject.CommonName != e.alice.CommonName {
		t.Errorf("the certificate is for key %x and %q, not the request's key and Alice", cert.RawSubjectPublicKeyInfo, cert.Subject.CommonName)
	}

	for _, tc := range []struct {
		name  string
		user  *lanyard.User
		usage lanyard.CertificateUsage
		req   *pki.CheckedRequest
		want  string
	}{
		{"another user's address", e.bob, lanyard.UsageSignature, req, "which is not yours"},
		{"no user", nil, lanyard.UsageSignature, req, "needs a user"},
		{"no request", e.alice, lanyard.UsageAuthentication, nil, "missing"},
		{"an unchecked request", e.alice, lanyard.UsageAuthentication, &pki.CheckedRequest{}, "missing"},
		{"encryption", e.alice, lanyard.UsageEncryption, req, "made by the server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ca.SignCheckedRequest(tc.user, tc.usage, tc.req, 1)
			if lanyard.ErrorCode(err) != lanyard.EINVALID || !strings.Contains(lanyard.ErrorMessage(err), tc.want) {
				t.Fatalf("signed or refused otherwise: %v; want %q", err, tc.want)
			}
		})
	}

	// A user stored before addresses were checked: refused as an order,
	// not failed while encoding.
	jürgen := &lanyard.User{ID: e.alice.ID, Username: "jurgen", Email: "jürgen@example.com", CommonName: "Jürgen"}
	if _, _, err := e.ca.SignEncryptionCertificate(jürgen, 0, 1); lanyard.ErrorCode(err) != lanyard.EINVALID || !strings.Contains(lanyard.ErrorMessage(err), "only ASCII addresses") {
		t.Errorf("a certificate for a non-ASCII address: %v", err)
	}

	if _, err := pki.CheckCSR(makeCSR(t, key, pkix.Name{}), nil); lanyard.ErrorCode(err) != lanyard.EINVALID {
		t.Errorf("a request checked for no user: %v", err)
	}
}
