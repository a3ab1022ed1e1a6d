package pki

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"time"

	"github.com/lanyard-id/lanyard"
)

// profile is what a usage puts into a certificate.
type profile struct {
	keyUsage x509.KeyUsage
	extUsage []x509.ExtKeyUsage
}

// profiles are the certificate profiles of SPEC §5. Each passes
// "openssl verify -purpose" with smimesign, sslclient and smimeencrypt.
var profiles = map[lanyard.CertificateUsage]profile{
	lanyard.UsageSignature: {
		keyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		extUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	},
	lanyard.UsageAuthentication: {
		keyUsage: x509.KeyUsageDigitalSignature,
		extUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	},
	lanyard.UsageEncryption: {
		keyUsage: x509.KeyUsageKeyEncipherment,
		extUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	},
}

// template returns the certificate of the given usage for user and pub,
// valid from now for years years but never beyond the issuing CA. The
// subject is the user's alone: CN is the common name and the one SAN is
// the email address. RawSubjectPublicKeyInfo holds pub's encoding, which
// the key identifier is made of and certificateDER writes.
func (ca *CA) template(user *lanyard.User, usage lanyard.CertificateUsage, pub crypto.PublicKey, years int, now time.Time) (*x509.Certificate, error) {
	if err := checkOrder(user, usage, years); err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode the certificate's key: %w", err)
	}
	p := profiles[usage]
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	notBefore := now.Truncate(time.Second)
	notAfter := notBefore.AddDate(years, 0, 0).Add(-time.Second)
	if notAfter.After(ca.issuer.NotAfter) {
		notAfter = ca.issuer.NotAfter
	}
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: user.CommonName},
		EmailAddresses:        []string{user.Email},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              p.keyUsage,
		ExtKeyUsage:           p.extUsage,
		BasicConstraintsValid: true,
		SubjectKeyId:          spkiKeyID(spki),
		CRLDistributionPoints: []string{ca.CRLShardURL(crlShard(notAfter))},
		OCSPServer:            []string{ca.cfg.PublicURL + "/pki/ocsp"},
		IssuingCertificateURL: []string{ca.cfg.PublicURL + "/pki/ca.cer"},

		RawSubjectPublicKeyInfo: spki,
	}, nil
}

// checkOrder refuses what no certificate can be made of.
func checkOrder(user *lanyard.User, usage lanyard.CertificateUsage, years int) error {
	if _, ok := profiles[usage]; !ok {
		return lanyard.Errorf(lanyard.EINVALID, "The certificate usage %q is not one of signature, authentication, encryption.", usage)
	}
	if years < 1 || years > lanyard.MaxValidityYears {
		return lanyard.Errorf(lanyard.EINVALID, "The validity must be 1 to %d years, not %d.", lanyard.MaxValidityYears, years)
	}
	if user == nil || user.Email == "" || user.CommonName == "" {
		return lanyard.Errorf(lanyard.EINVALID, "A certificate needs a user with an email address and a common name.")
	}
	if !lanyard.CertifiableEmail(user.Email) {
		return lanyard.Errorf(lanyard.EINVALID, "The email address %s cannot be named in a certificate: only ASCII addresses can.", user.Email)
	}
	return nil
}
