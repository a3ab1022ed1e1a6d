package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/lanyard-id/lanyard"
)

// Key policy for keys made on the device.
const (
	MinRSABits = 2048
	MaxRSABits = 8192
	maxCSRSize = 64 << 10
)

var oidEmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

// ParseCSR parses a PKCS#10 request (DER, or PEM) for user and checks it:
// its signature (proof of possession of the key), the key policy (ECDSA
// P-256 or P-384, RSA of 2048 to 8192 bits), and that every email address
// it names is the user's. Nothing else of its subject is used; certificates
// take their subject from the user. Every refusal is an EINVALID error
// saying what is wrong.
func ParseCSR(data []byte, user *lanyard.User) (*x509.CertificateRequest, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The certificate request is empty.")
	}
	if len(data) > maxCSRSize {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The certificate request is larger than %d bytes.", maxCSRSize)
	}
	der := data
	if t := bytes.TrimSpace(data); bytes.HasPrefix(t, []byte("-----BEGIN")) {
		block, _ := pem.Decode(t)
		if block == nil || (block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST") {
			return nil, lanyard.Errorf(lanyard.EINVALID, "The certificate request is PEM but not a CERTIFICATE REQUEST block.")
		}
		der = block.Bytes
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The certificate request is not a valid PKCS#10 request.")
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The signature of the certificate request does not verify, so it does not prove possession of the key.")
	}
	if err := checkKey(csr.PublicKey); err != nil {
		return nil, err
	}
	if user != nil {
		if err := checkEmails(csr, user.Email); err != nil {
			return nil, err
		}
	}
	return csr, nil
}

// CheckedRequest is a certificate request that ParseCSR accepted for a
// user, kept so that signing it needs neither the parse nor the signature
// check again. Only CheckCSR makes one.
type CheckedRequest struct {
	csr   *x509.CertificateRequest
	email string // the address it was checked against
}

// CheckCSR is ParseCSR for a user, keeping the accepted request for
// SignCheckedRequest.
func CheckCSR(data []byte, user *lanyard.User) (*CheckedRequest, error) {
	if user == nil {
		return nil, lanyard.Errorf(lanyard.EINVALID, "A certificate request is checked for a user.")
	}
	csr, err := ParseCSR(data, user)
	if err != nil {
		return nil, err
	}
	return &CheckedRequest{csr: csr, email: user.Email}, nil
}

// PublicKeyInfo is the DER SubjectPublicKeyInfo of the request's key.
func (r *CheckedRequest) PublicKeyInfo() []byte { return r.csr.RawSubjectPublicKeyInfo }

// checkKey enforces the key policy.
func checkKey(pub any) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() || k.Curve == elliptic.P384() {
			return nil
		}
		return lanyard.Errorf(lanyard.EINVALID, "The ECDSA curve %s is not allowed; use P-256 or P-384.", k.Curve.Params().Name)
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
			return lanyard.Errorf(lanyard.EINVALID, "The RSA key has %d bits; it must have %d to %d.", bits, MinRSABits, MaxRSABits)
		}
		return nil
	}
	return lanyard.Errorf(lanyard.EINVALID, "The key type %s is not allowed; use ECDSA P-256 or P-384, or RSA of at least %d bits.", keyTypeName(pub), MinRSABits)
}

func keyTypeName(pub any) string {
	if _, ok := pub.(ed25519.PublicKey); ok {
		return "Ed25519"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", pub), "*")
}

// checkEmails refuses a request naming an email address other than the
// user's, in its subject (emailAddress, or a common name that is an address)
// or in its subject alternative names.
func checkEmails(csr *x509.CertificateRequest, email string) error {
	var named []string
	named = append(named, csr.EmailAddresses...)
	for _, atv := range csr.Subject.Names {
		if atv.Type.Equal(oidEmailAddress) {
			named = append(named, fmt.Sprint(atv.Value))
		}
	}
	if strings.Contains(csr.Subject.CommonName, "@") {
		named = append(named, csr.Subject.CommonName)
	}
	for _, e := range named {
		if !strings.EqualFold(strings.TrimSpace(e), email) {
			return lanyard.Errorf(lanyard.EINVALID, "The certificate request names the email address %q, which is not yours (%s).", e, email)
		}
	}
	return nil
}
