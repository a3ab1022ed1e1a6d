package pki

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"

	"github.com/lanyard-id/lanyard"
)

// serialAttempts bounds the retries after a serial collision, which with
// 126 random bits only a broken random source produces.
const serialAttempts = 3

// IssueCertificate issues a signature or authentication certificate for
// the key of a PKCS#10 request (DER or PEM) that ParseCSR accepts for user.
func (ca *CA) IssueCertificate(ctx context.Context, actor lanyard.Actor, user *lanyard.User, usage lanyard.CertificateUsage, csr []byte, validityYears int) (*lanyard.Certificate, error) {
	if usage == lanyard.UsageEncryption {
		return nil, lanyard.Errorf(lanyard.EINVALID, "Encryption keys are made by the server, so that they can be archived; an encryption certificate is not issued from a request.")
	}
	if user == nil {
		return nil, lanyard.Errorf(lanyard.EINVALID, "A certificate needs a user.")
	}
	req, err := ParseCSR(csr, user)
	if err != nil {
		return nil, err
	}
	return ca.issue(ctx, actor, user, usage, req.PublicKey, validityYears, nil)
}

// IssueEncryptionCertificate makes an RSA key, issues an encryption
// certificate for it and archives the key, sealed, in the same transaction
// as the certificate. The key is returned for delivery to the device.
func (ca *CA) IssueEncryptionCertificate(ctx context.Context, actor lanyard.Actor, user *lanyard.User, rsaBits, validityYears int) (*lanyard.Certificate, *rsa.PrivateKey, error) {
	if rsaBits == 0 {
		rsaBits = 2048
	}
	if rsaBits != 2048 && rsaBits != 3072 {
		return nil, nil, lanyard.Errorf(lanyard.EINVALID, "Encryption keys are RSA 2048 or 3072 bits, not %d.", rsaBits)
	}
	if err := checkOrder(user, lanyard.UsageEncryption, validityYears); err != nil {
		return nil, nil, err // refused before the slow key generation
	}
	key, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return nil, nil, fmt.Errorf("generate encryption key: %w", err)
	}
	cert, err := ca.issue(ctx, actor, user, lanyard.UsageEncryption, &key.PublicKey, validityYears, key)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// issue signs and stores a certificate; with archive set, the private key
// is sealed into the archive under the new serial.
func (ca *CA) issue(ctx context.Context, actor lanyard.Actor, user *lanyard.User, usage lanyard.CertificateUsage, pub crypto.PublicKey, years int, archive *rsa.PrivateKey) (*lanyard.Certificate, error) {
	for attempt := 1; ; attempt++ {
		tmpl, err := ca.template(user, usage, pub, years, ca.now())
		if err != nil {
			return nil, err
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.issuer, pub, ca.signer)
		if err != nil {
			return nil, fmt.Errorf("sign certificate: %w", err)
		}
		cert := &lanyard.Certificate{
			Serial: SerialString(tmpl.SerialNumber), UserID: user.ID, Usage: usage,
			NotBefore: tmpl.NotBefore, NotAfter: tmpl.NotAfter, Status: lanyard.CertificateValid, DER: der,
		}
		var ak *ArchivedKey
		if archive != nil {
			if ak, err = ca.sealArchive(user.ID, cert.Serial, archive); err != nil {
				return nil, err
			}
		}
		err = ca.store.InsertCertificate(ctx, actor, cert, ak)
		if lanyard.ErrorCode(err) == lanyard.ECONFLICT && attempt < serialAttempts {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("issue certificate: %w", err)
		}
		return cert, nil
	}
}
