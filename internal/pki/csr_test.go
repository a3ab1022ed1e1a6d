package pki_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

var alice = &lanyard.User{ID: 1, Email: "alice@example.com", CommonName: "Alice Example"}

func emailSubject(email string) pkix.Name {
	return pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: email}}}
}

func TestParseCSR(t *testing.T) {
	p256 := newKey(t)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	good := makeCSR(t, p256, pkix.Name{CommonName: "whatever the app says"})
	badSig := append([]byte(nil), good...)
	badSig[len(badSig)-3] ^= 0xff

	for _, tc := range []struct {
		name string
		csr  []byte
		want string // a part of the error message; "" for success
	}{
		{"P-256", good, ""},
		{"PEM", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: good}), ""},
		{"own email in SAN and subject", makeCSR(t, p256, emailSubject("Alice@Example.com"), "alice@example.com"), ""},
		{"bad signature", badSig, "does not prove possession"},
		{"Ed25519 key", makeCSR(t, edKey, pkix.Name{}), "key type Ed25519 is not allowed"},
		{"P-224 key", makeCSR(t, p224, pkix.Name{}), "curve P-224 is not allowed"},
		{"RSA 1024", makeCSR(t, rsa1024, pkix.Name{}), "RSA key has 1024 bits"},
		{"garbage", []byte("\x30\x82garbage that is no request"), "not a valid PKCS#10 request"},
		{"empty", nil, "empty"},
		{"blank", []byte(" \n\t"), "empty"},
		{"PEM of a certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: good}), "not a CERTIFICATE REQUEST"},
		{"someone else's email in SAN", makeCSR(t, p256, pkix.Name{}, "bob@example.org"), `"bob@example.org", which is not yours`},
		{"someone else's emailAddress", makeCSR(t, p256, emailSubject("bob@example.org")), `"bob@example.org", which is not yours`},
		{"someone else's email as CN", makeCSR(t, p256, pkix.Name{CommonName: "bob@example.org"}), "which is not yours"},
		{"too large", make([]byte, 70<<10), "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pki.ParseCSR(tc.csr, alice)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == "":
			case lanyard.ErrorCode(err) != lanyard.EINVALID || !strings.Contains(lanyard.ErrorMessage(err), tc.want):
				t.Fatalf("got %v, want EINVALID with %q", err, tc.want)
			}
		})
	}
}

// TestIssueRefusals checks what IssueCertificate refuses before signing.
func TestIssueRefusals(t *testing.T) {
	e := newEnv(t, testenv.DSN(t, "sqlite"), pki.Config{})
	ctx := context.Background()
	csr := makeCSR(t, newKey(t), pkix.Name{})
	for _, tc := range []struct {
		name  string
		usage lanyard.CertificateUsage
		years int
		csr   []byte
	}{
		{"encryption from a request", lanyard.UsageEncryption, 2, csr},
		{"unknown usage", "code-signing", 2, csr},
		{"zero years", lanyard.UsageSignature, 0, csr},
		{"too many years", lanyard.UsageSignature, lanyard.MaxValidityYears + 1, csr},
		{"other's email", lanyard.UsageSignature, 2, makeCSR(t, newKey(t), pkix.Name{}, e.bob.Email)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.ca.IssueCertificate(ctx, actor, e.alice, tc.usage, tc.csr, tc.years); lanyard.ErrorCode(err) != lanyard.EINVALID {
				t.Fatalf("got %v, want EINVALID", err)
			}
		})
	}
	if _, _, err := e.ca.IssueEncryptionCertificate(ctx, actor, e.alice, 1024, 2); lanyard.ErrorCode(err) != lanyard.EINVALID {
		t.Fatalf("RSA 1024 encryption key: %v", err)
	}
	if certs, _ := e.ca.FindCertificatesByUser(ctx, e.alice.ID); len(certs) != 0 {
		t.Fatalf("refused requests left %d certificates", len(certs))
	}
}

// FuzzParseCSR feeds arbitrary bytes to the request parser, which must
// refuse what it cannot use with EINVALID and never panic.
func FuzzParseCSR(f *testing.F) {
	key := newKey(f)
	good := makeCSR(f, key, pkix.Name{CommonName: "x"}, "alice@example.com")
	f.Add(good)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: good}))
	f.Add(makeCSR(f, key, emailSubject("bob@example.org")))
	f.Add([]byte{})
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		csr, err := pki.ParseCSR(data, alice)
		if err != nil && lanyard.ErrorCode(err) != lanyard.EINVALID {
			t.Fatalf("error %v is not EINVALID", err)
		}
		if err == nil {
			if err := csr.CheckSignature(); err != nil {
				t.Fatalf("accepted a request whose signature fails: %v", err)
			}
		}
	})
}
