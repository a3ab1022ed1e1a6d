package pki

import (
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/lanyard-id/lanyard"
)

// serialBytes is the length of serial numbers: 16 octets with the top bit
// clear (positive) and the next one set (never shortened by leading zeros),
// which leaves 126 random bits, well above the 64 that RFC 5280 and the
// CA/Browser Forum ask for. The database's unique constraint makes a
// collision fail the insert, and the certificate is signed again with a new
// serial, so no serial is ever used twice.
const serialBytes = 16

func newSerial() (*big.Int, error) {
	b := make([]byte, serialBytes)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("random serial: %w", err)
	}
	b[0] = b[0]&0x7f | 0x40
	return new(big.Int).SetBytes(b), nil
}

// SerialString returns the form serials are stored and shown in: lower-case
// hexadecimal without leading zeros.
func SerialString(n *big.Int) string { return n.Text(16) }

// ParseSerial accepts a serial in hexadecimal, with or without colons and
// leading zeros, in either case, and returns it in the stored form.
func ParseSerial(s string) (string, error) {
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	s = strings.TrimPrefix(s, "0x")
	if len(s) > 64 {
		return "", lanyard.Errorf(lanyard.EINVALID, "The serial number is too long.")
	}
	n, ok := new(big.Int).SetString(s, 16)
	if !ok || n.Sign() <= 0 {
		return "", lanyard.Errorf(lanyard.EINVALID, "%q is not a certificate serial number.", s)
	}
	return SerialString(n), nil
}

// subjectPublicKeyBits returns the contents of the subjectPublicKey BIT
// STRING of a DER SubjectPublicKeyInfo: what key identifiers and OCSP
// issuerKeyHash are computed over.
func subjectPublicKeyBits(spki []byte) ([]byte, error) {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	rest, err := asn1.Unmarshal(spki, &info)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	} else if len(rest) > 0 {
		return nil, errors.New("parse public key: trailing data")
	}
	return info.PublicKey.Bytes, nil
}
