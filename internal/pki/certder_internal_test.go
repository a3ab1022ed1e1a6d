package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	encasn1 "encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// certTestCA is an issuing CA for key valid until notAfter, with the
// addresses a real one puts into its certificates.
func certTestCA(t testing.TB, key crypto.Signer, notAfter time.Time) *CA {
	t.Helper()
	ca := testIssuerUntil(t, key, notAfter)
	ca.cfg = Config{PublicURL: "https://lanyard.example", Now: time.Now}
	return ca
}

// certTestUsers are the names that test the edges of the encoding: a
// common name as PrintableString and as UTF8String (non-ASCII, or ASCII
// outside PrintableString: '&', '@', '*'), names and addresses long
// enough for lengths of two octets.
var certTestUsers = []struct {
	name string
	user *lanyard.User
}{
	{"plain", &lanyard.User{ID: 1, CommonName: "Alice Example", Email: "alice@example.com"}},
	{"printable punctuation", &lanyard.User{ID: 2, CommonName: "O'Brien (Jr.), A-B/C: =?+", Email: "obrien@example.com"}},
	{"unicode", &lanyard.User{ID: 3, CommonName: "Zoë Ünïcødé 李", Email: "zoe@example.com"}},
	{"ampersand", &lanyard.User{ID: 4, CommonName: "Smith & Sons", Email: "smith@example.com"}},
	{"at sign", &lanyard.User{ID: 5, CommonName: "bob@example.org", Email: "bob@example.org"}},
	{"asterisk", &lanyard.User{ID: 6, CommonName: "Star * Name", Email: "star@example.com"}},
	{"long", &lanyard.User{ID: 7, CommonName: strings.Repeat("Abcdefgh", 8), Email: "long@example.com"}},
	{"long unicode", &lanyard.User{ID: 8, CommonName: strings.Repeat("李", lanyard.MaxCommonNameLen), Email: "li@example.com"}},
	{"long email", &lanyard.User{ID: 9, CommonName: "Long Address", Email: strings.Repeat("l", 64) + "@" +
		strings.Repeat("sub-domain-label.", 10) + "example.com"}},
}

// TestCertificateEncodingMatchesGo makes end-entity certificates with the
// CA's own encoder and with x509.CreateCertificate from the same template,
// for each kind of issuing key and each usage, with the names above and
// validities at the edges: clamped at the issuer's notAfter, the last
// second of UTCTime and the first of GeneralizedTime (RFC 5280
// §4.1.2.5). The two are the same bytes but for the signature value, ours
// verifies with the issuer's key, and openssl reads it.
func TestCertificateEncodingMatchesGo(t *testing.T) {
	openssl := lookOpenSSL(t)
	subjectKeys := map[lanyard.CertificateUsage]crypto.PublicKey{
		lanyard.UsageSignature:      mustKey(t, ECDSAP256).Public(),
		lanyard.UsageAuthentication: mustKey(t, ECDSAP384).Public(),
		lanyard.UsageEncryption:     mustRSA(t, 2048).Public(),
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.UTC)
	until2060 := time.Date(2060, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, alg := range []KeyAlgorithm{ECDSAP256, ECDSAP384, RSA3072} {
		key := mustKey(t, alg)
		ca := certTestCA(t, key, until2060)
		validities := []struct {
			name  string
			ca    *CA
			now   time.Time
			years int
			want  time.Time // notAfter
			time  string    // its encoding
		}{
			{"clamped at the issuer", certTestCA(t, key, now.AddDate(1, 0, 0)), now, 2, now.AddDate(1, 0, 0).Truncate(time.Second), ""},
			{"longest", ca, now, lanyard.MaxValidityYears, time.Date(2036, 12, 1, 9, 59, 59, 0, time.UTC), "\x17\x0d361201095959Z"},
			{"last UTCTime", ca, time.Date(2048, 1, 1, 0, 0, 0, 0, time.UTC), 2, time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), "\x17\x0d491231235959Z"},
			{"first GeneralizedTime", ca, time.Date(2048, 1, 1, 0, 0, 1, 0, time.UTC), 2, time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), "\x18\x0f20500101000000Z"},
			{"GeneralizedTime clamped", ca, time.Date(2055, 6, 1, 0, 0, 0, 0, time.UTC), 10, until2060, "\x18\x0f20600101000000Z"},
		}
		for usage, pub := range subjectKeys {
			for _, u := range certTestUsers {
				t.Run(fmt.Sprintf("%s/%s/%s", alg, usage, u.name), func(t *testing.T) {
					cert := compareWithGo(t, ca, u.user, usage, pub, 2, now, openssl)
					if cert.Subject.CommonName != u.user.CommonName || len(cert.EmailAddresses) != 1 || cert.EmailAddresses[0] != u.user.Email {
						t.Errorf("subject %q, addresses %q", cert.Subject.CommonName, cert.EmailAddresses)
					}
				})
			}
			for _, v := range validities {
				t.Run(fmt.Sprintf("%s/%s/%s", alg, usage, v.name), func(t *testing.T) {
					cert := compareWithGo(t, v.ca, certTestUsers[0].user, usage, pub, v.years, v.now, openssl)
					if !cert.NotAfter.Equal(v.want) {
						t.Errorf("notAfter %v, want %v", cert.NotAfter, v.want)
					}
					if !bytes.Contains(cert.RawTBSCertificate, []byte(v.time)) {
						t.Errorf("notAfter is not written as %q", v.time)
					}
				})
			}
		}
	}
}

// compareWithGo makes the certificate of usage for u and pub both ways,
// with the same serial and times, checks that they differ in the
// signature value alone and that ours verifies and openssl reads it, and
// returns ours parsed.
func compareWithGo(t *testing.T, ca *CA, u *lanyard.User, usage lanyard.CertificateUsage, pub crypto.PublicKey, years int, now time.Time, openssl string) *x509.Certificate {
	t.Helper()
	tmpl, err := ca.template(u, usage, pub, years, now)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := ca.certificateDER(tmpl)
	if err != nil {
		t.Fatalf("our encoder: %v", err)
	}
	theirs, err := x509.CreateCertificate(rand.Reader, tmpl, ca.issuer, pub, ca.signer)
	if err != nil {
		t.Fatalf("CreateCertificate: %v", err)
	}
	cert, err := x509.ParseCertificate(ours)
	if err != nil {
		t.Fatalf("parse ours: %v", err)
	}
	goCert, err := x509.ParseCertificate(theirs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cert.RawTBSCertificate, goCert.RawTBSCertificate) {
		t.Errorf("the TBSCertificate differs from Go's\nours   %x\ntheirs %x", cert.RawTBSCertificate, goCert.RawTBSCertificate)
	}
	oursTBS, oursAlg := splitCertificate(t, ours)
	theirsTBS, theirsAlg := splitCertificate(t, theirs)
	if !bytes.Equal(oursTBS, theirsTBS) || !bytes.Equal(oursAlg, theirsAlg) {
		t.Errorf("the certificate differs from Go's in more than the signature value\nours   %x\ntheirs %x", ours, theirs)
	}
	if err := cert.CheckSignatureFrom(ca.issuer); err != nil {
		t.Errorf("signature: %v", err)
	}
	checkOpenSSLReads(t, openssl, ours, u.Email)
	return cert
}

// splitCertificate reads a Certificate as DER strictly (minimal lengths,
// nothing after it) and returns its TBSCertificate and its
// signatureAlgorithm, each whole, after checking that the signatureValue
// is a BIT STRING of whole octets.
func splitCertificate(t *testing.T, der []byte) (tbs, alg []byte) {
	t.Helper()
	input := cryptobyte.String(der)
	var cert cryptobyte.String
	var sig encasn1.BitString
	var tbsElem, algElem cryptobyte.String
	if !input.ReadASN1(&cert, cbasn1.SEQUENCE) || !input.Empty() ||
		!cert.ReadASN1Element(&tbsElem, cbasn1.SEQUENCE) ||
		!cert.ReadASN1Element(&algElem, cbasn1.SEQUENCE) ||
		!cert.ReadASN1BitString(&sig) || !cert.Empty() || sig.BitLength%8 != 0 {
		t.Fatalf("not a DER Certificate: %x", der)
	}
	return tbsElem, algElem
}

// checkOpenSSLReads has openssl print the certificate.
func checkOpenSSLReads(t *testing.T, openssl string, der []byte, email string) {
	t.Helper()
	cmd := exec.Command(openssl, "x509", "-inform", "DER", "-noout", "-text")
	cmd.Stdin = bytes.NewReader(der)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl x509: %v\n%s", err, out)
	}
	for _, want := range []string{"email:" + email, "X509v3 CRL Distribution Points", "OCSP - URI:https://lanyard.example/pki/ocsp"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("openssl does not show %q:\n%s", want, out)
		}
	}
}

// lookOpenSSL returns the path of the openssl binary. Without it the test
// is skipped, or fails where every service is required (CI), as
// testenv.OpenSSL does for the external tests.
func lookOpenSSL(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("LANYARD_REQUIRE_ALL") == "1" {
			t.Fatalf("required service unavailable: openssl: %v", err)
		}
		t.Skipf("service unavailable: openssl: %v", err)
	}
	return p
}

func mustKey(t testing.TB, alg KeyAlgorithm) crypto.Signer {
	t.Helper()
	key, err := generateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func mustRSA(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// TestCertificateRefusesWhatGoRefuses: an email address beyond ASCII,
// which an IA5String cannot hold, is refused as an order, with a message
// for the user; in a template all the same (as x509 refuses it), and a
// common name that is not UTF-8 too, signing reports an internal error, as
// it did when x509 made the certificates.
func TestCertificateRefusesWhatGoRefuses(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := certTestCA(t, key, time.Now().AddDate(20, 0, 0))
	pub := key.Public()
	zoe := &lanyard.User{ID: 1, CommonName: "Zoë", Email: "zoë@example.com"}
	if _, err := ca.sign(zoe, lanyard.UsageSignature, pub, 2); lanyard.ErrorCode(err) != lanyard.EINVALID || !strings.Contains(lanyard.ErrorMessage(err), "only ASCII addresses") {
		t.Errorf("a non-ASCII address: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*x509.Certificate)
	}{
		{"a non-ASCII address", func(c *x509.Certificate) { c.EmailAddresses = []string{zoe.Email} }},
		{"a common name not UTF-8", func(c *x509.Certificate) { c.Subject.CommonName = "Bad \xff UTF-8" }},
	} {
		tmpl, err := ca.template(&lanyard.User{ID: 2, CommonName: "Zoe", Email: "zoe@example.com"}, lanyard.UsageSignature, pub, 2, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		tc.change(tmpl)
		if _, err := x509.CreateCertificate(rand.Reader, tmpl, ca.issuer, pub, ca.signer); err == nil {
			t.Fatalf("%s: CreateCertificate accepts it", tc.name)
		}
		if _, err := ca.certificateDER(tmpl); err == nil {
			t.Errorf("%s: written", tc.name)
		}
	}
	_, err := ca.sign(&lanyard.User{ID: 3, CommonName: "Bad \xff UTF-8", Email: "bad@example.com"}, lanyard.UsageSignature, pub, 2)
	if lanyard.ErrorCode(err) != lanyard.EINTERNAL || !strings.HasPrefix(fmt.Sprint(err), "sign certificate: ") {
		t.Errorf("a common name not UTF-8: %v (%s)", err, lanyard.ErrorCode(err))
	}
}

// TestCertificateKeyFromTemplate: the certificate holds the key whose
// encoding the template holds, the one its key identifier is made of, and
// a template without one is refused.
func TestCertificateKeyFromTemplate(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := certTestCA(t, key, time.Now().AddDate(20, 0, 0))
	subject, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl, err := ca.template(certTestUsers[0].user, lanyard.UsageSignature, subject.Public(), 2, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	der, err := ca.certificateDER(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if !subject.PublicKey.Equal(cert.PublicKey) || !bytes.Equal(cert.SubjectKeyId, keyID(subject.Public())) {
		t.Error("the certificate does not hold the template's key and its identifier")
	}
	tmpl.RawSubjectPublicKeyInfo = nil
	if _, err := ca.certificateDER(tmpl); err == nil {
		t.Error("a template without a key was signed")
	}
}

// faultySigner makes signatures with their last bit flipped, as a fault
// in the signing hardware might.
type faultySigner struct{ crypto.Signer }

func (f faultySigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	sig, err := f.Signer.Sign(r, digest, opts)
	if err == nil {
		sig[len(sig)-1] ^= 1
	}
	return sig, err
}

// TestFaultyRSASignatureIsRefused: a wrong RSA signature never leaves the
// CA, in a certificate or a CRL, since it may give away the key. ECDSA
// signatures are not verified (see signing.sign): the certificate is made,
// and fails verification where it is used.
func TestFaultyRSASignatureIsRefused(t *testing.T) {
	rsaKey := mustRSA(t, 2048) // the size does not matter to the check
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, key := range []crypto.Signer{rsaKey, ecKey} {
		ca := certTestCA(t, key, time.Now().AddDate(20, 0, 0))
		ca.signer = faultySigner{key}
		_, rsaIssuer := key.(*rsa.PrivateKey)
		_, certErr := ca.sign(certTestUsers[0].user, lanyard.UsageSignature, ecKey.Public(), 2)
		_, crlErr := newCRLBuilder(0).finish(ca, crlFields{number: 1, thisUpdate: time.Now(), nextUpdate: time.Now().Add(time.Hour)})
		if rsaIssuer && (certErr == nil || crlErr == nil) {
			t.Errorf("RSA: a faulty signature was used: certificate %v, CRL %v", certErr, crlErr)
		}
		if !rsaIssuer && (certErr != nil || crlErr != nil) {
			t.Errorf("ECDSA: certificate %v, CRL %v", certErr, crlErr)
		}
	}
}

// TestSignerCheckedWhenTheCAOpens checks that an issuing key whose
// signatures do not verify is found by the check the CA runs when it
// opens, whatever its kind, and a sound one passes.
func TestSignerCheckedWhenTheCAOpens(t *testing.T) {
	for _, alg := range []KeyAlgorithm{ECDSAP256, RSA3072} {
		key, err := generateKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "check"},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		issuer, _ := x509.ParseCertificate(der)
		if err := checkSigner(key, issuer); err != nil {
			t.Errorf("%s: a sound key: %v", alg, err)
		}
		if err := checkSigner(faultySigner{key}, issuer); err == nil {
			t.Errorf("%s: a key whose signatures do not verify passed", alg)
		}
	}
}
