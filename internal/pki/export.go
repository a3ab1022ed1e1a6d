package pki

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// ExportChain returns the PEM chain of the CA in st, issuing CA first. It
// needs no master key, so "lanyard ca export" works wherever the database
// is reachable; before the first start it returns ENOTFOUND.
func ExportChain(ctx context.Context, st Store) ([]byte, error) {
	rec, err := st.FindCA(ctx)
	if err != nil {
		return nil, err
	}
	for _, der := range [][]byte{rec.IssuingCert, rec.RootCert} {
		if _, err := x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("parse CA certificate: %w", err)
		}
	}
	return append(pemCert(rec.IssuingCert), pemCert(rec.RootCert)...), nil
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// keyID is the subject key identifier of pub: the leftmost 160 bits of the
// SHA-256 hash of the subjectPublicKey (RFC 7093 method 1), which avoids
// SHA-1 altogether.
func keyID(pub any) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	return spkiKeyID(der)
}

// spkiKeyID is keyID of the key a SubjectPublicKeyInfo holds.
func spkiKeyID(spki []byte) []byte {
	bits, err := subjectPublicKeyBits(spki)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(bits)
	return sum[:20]
}
