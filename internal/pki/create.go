package pki

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/secret"
)

// CA lifetimes: the issuing CA outlives every certificate it issues with the
// longest validity the options allow, and the root outlives the issuing CA.
const (
	rootLifetimeYears    = 20
	issuingLifetimeYears = 10
)

// recoveryKeyAD binds the sealed key-recovery key to its purpose.
const recoveryKeyAD = "lanyard key-recovery key v1"

// createCA makes the root and issuing CA keys and certificates and a
// key-recovery key, and stores them unless another instance was quicker, in
// which case its CA is returned and the keys made here are dropped.
func createCA(ctx context.Context, st Store, cfg Config, kek []byte) (*CARecord, error) {
	suffix := make([]byte, 8)
	rand.Read(suffix)
	rootLabel := "root-" + hex.EncodeToString(suffix)
	issuingLabel := "issuing-" + hex.EncodeToString(suffix)
	rootKey, err := cfg.Backend.CreateKey(ctx, rootLabel, cfg.KeyAlgorithm)
	if err != nil {
		return nil, fmt.Errorf("create root CA key: %w", err)
	}
	issuingKey, err := cfg.Backend.CreateKey(ctx, issuingLabel, cfg.KeyAlgorithm)
	if err != nil {
		return nil, fmt.Errorf("create issuing CA key: %w", err)
	}
	now := cfg.Now().UTC().Truncate(time.Second)
	root, err := caCertificate(cfg, nil, rootKey, rootKey.Public(), now, "Root CA")
	if err != nil {
		return nil, err
	}
	issuing, err := caCertificate(cfg, root, rootKey, issuingKey.Public(), now, "Issuing CA")
	if err != nil {
		return nil, err
	}
	krk := make([]byte, 32)
	rand.Read(krk)
	sealedKRK, err := secret.Seal(kek, krk, recoveryKeyAD)
	if err != nil {
		return nil, err
	}
	rec, err := st.CreateCA(ctx, lanyard.SystemActor, &CARecord{
		Algorithm: cfg.KeyAlgorithm, Backend: cfg.Backend.Name(),
		RootCert: root.Raw, IssuingCert: issuing.Raw,
		RootKeyLabel: rootLabel, IssuingKeyLabel: issuingLabel, RecoveryKey: sealedKRK,
	})
	if err != nil {
		return nil, fmt.Errorf("store CA: %w", err)
	}
	if d, ok := cfg.Backend.(KeyDeleter); ok && rec.IssuingKeyLabel != issuingLabel {
		_ = d.DeleteKey(ctx, rootLabel)
		_ = d.DeleteKey(ctx, issuingLabel)
	}
	return rec, nil
}

// caCertificate signs a CA certificate: self-signed when parent is nil (the
// root), else an issuing CA that may issue end-entity certificates only.
func caCertificate(cfg Config, parent *x509.Certificate, parentKey crypto.Signer, pub crypto.PublicKey, now time.Time, role string) (*x509.Certificate, error) {
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{cfg.Organization}, CommonName: cfg.Organization + " " + role},
		NotBefore:             now,
		NotAfter:              now.AddDate(rootLifetimeYears, 0, 0).Add(-time.Second),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          keyID(pub),
	}
	if cfg.Country != "" {
		tmpl.Subject.Country = []string{cfg.Country}
	}
	if parent == nil {
		parent = tmpl
	} else {
		tmpl.NotAfter = now.AddDate(issuingLifetimeYears, 0, 0).Add(-time.Second)
		tmpl.MaxPathLenZero = true
		// The issuing CA signs OCSP responses itself, hence digitalSignature.
		tmpl.KeyUsage |= x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection, x509.ExtKeyUsageClientAuth}
		tmpl.Policies = []x509.OID{anyPolicy}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, fmt.Errorf("sign %s certificate: %w", role, err)
	}
	return x509.ParseCertificate(der)
}

var anyPolicy = mustOID("2.5.29.32.0")

func mustOID(s string) x509.OID {
	oid, err := x509.ParseOID(s)
	if err != nil {
		panic(err)
	}
	return oid
}
