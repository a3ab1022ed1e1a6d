package pki

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"fmt"

	"github.com/lanyard-id/lanyard"
)

// serialAttempts bounds the retries after a serial collision, which with
// 126 random bits only a broken random source produces.
const serialAttempts = 3

// IssueCertificate issues a signature or authentication certificate for
// the key of a PKCS#10 request (DER or PEM) that ParseCSR accepts for user,
// and records it on its own. A mobile ID's certificates are signed with
// SignCertificate instead and recorded with the mobile ID.
func (ca *CA) IssueCertificate(ctx context.Context, actor lanyard.Actor, user *lanyard.User, usage lanyard.CertificateUsage, csr []byte, validityYears int) (*lanyard.Certificate, error) {
	return ca.record(ctx, actor, func() (lanyard.SignedCertificate, error) {
		c, err := ca.SignCertificate(user, usage, csr, validityYears)
		return lanyard.SignedCertificate{Certificate: c}, err
	})
}

// SignCertificate signs a signature or authentication certificate for the
// key of a PKCS#10 request (DER or PEM) that ParseCSR accepts for user,
// and records nothing: the caller records it where it is delivered, so a
// certificate that was never delivered stays unknown to OCSP.
func (ca *CA) SignCertificate(user *lanyard.User, usage lanyard.CertificateUsage, csr []byte, validityYears int) (*lanyard.Certificate, error) {
	if user == nil {
		return nil, lanyard.Errorf(lanyard.EINVALID, "A certificate needs a user.")
	}
	req, err := CheckCSR(csr, user)
	if err != nil {
		return nil, err
	}
	return ca.SignCheckedRequest(user, usage, req, validityYears)
}

// SignCheckedRequest is SignCertificate for a request CheckCSR accepted,
// which it neither parses nor verifies again. A request checked for
// another email address than user's has that address checked again.
func (ca *CA) SignCheckedRequest(user *lanyard.User, usage lanyard.CertificateUsage, req *CheckedRequest, validityYears int) (*lanyard.Certificate, error) {
	if usage == lanyard.UsageEncryption {
		return nil, lanyard.Errorf(lanyard.EINVALID, "Encryption keys are made by the server, so that they can be archived; an encryption certificate is not issued from a request.")
	}
	if user == nil {
		return nil, lanyard.Errorf(lanyard.EINVALID, "A certificate needs a user.")
	}
	if req == nil || req.csr == nil {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The certificate request is missing.")
	}
	if req.email != user.Email {
		if err := checkEmails(req.csr, user.Email); err != nil {
			return nil, err
		}
	}
	return ca.sign(user, usage, req.csr.PublicKey, validityYears)
}

// IssueEncryptionCertificate makes an RSA key, issues an encryption
// certificate for it and archives the key, sealed, in the same transaction
// as the certificate. The key is returned for delivery to the device.
func (ca *CA) IssueEncryptionCertificate(ctx context.Context, actor lanyard.Actor, user *lanyard.User, rsaBits, validityYears int) (*lanyard.Certificate, *rsa.PrivateKey, error) {
	var key *rsa.PrivateKey
	cert, err := ca.record(ctx, actor, func() (lanyard.SignedCertificate, error) {
		sc, k, err := ca.SignEncryptionCertificate(user, rsaBits, validityYears)
		key = k
		return sc, err
	})
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// SignEncryptionCertificate makes an RSA key of rsaBits (0: 2048; 2048 or
// 3072), signs an encryption certificate for it and seals the key for the
// archive, recording nothing: the caller records certificate and archive
// together. The key is returned for delivery to the device.
func (ca *CA) SignEncryptionCertificate(user *lanyard.User, rsaBits, validityYears int) (lanyard.SignedCertificate, *rsa.PrivateKey, error) {
	if rsaBits == 0 {
		rsaBits = 2048
	}
	if rsaBits != 2048 && rsaBits != 3072 {
		return lanyard.SignedCertificate{}, nil, lanyard.Errorf(lanyard.EINVALID, "Encryption keys are RSA 2048 or 3072 bits, not %d.", rsaBits)
	}
	if err := checkOrder(user, lanyard.UsageEncryption, validityYears); err != nil {
		return lanyard.SignedCertificate{}, nil, err // refused before the slow key generation
	}
	key, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return lanyard.SignedCertificate{}, nil, fmt.Errorf("generate encryption key: %w", err)
	}
	cert, err := ca.sign(user, lanyard.UsageEncryption, &key.PublicKey, validityYears)
	if err != nil {
		return lanyard.SignedCertificate{}, nil, err
	}
	ak, err := ca.sealArchive(user.ID, cert.Serial, key)
	if err != nil {
		return lanyard.SignedCertificate{}, nil, err
	}
	return lanyard.SignedCertificate{Certificate: cert, Archive: ak}, key, nil
}

// record signs with sign and stores the result, signing again after a
// serial collision.
func (ca *CA) record(ctx context.Context, actor lanyard.Actor, sign func() (lanyard.SignedCertificate, error)) (*lanyard.Certificate, error) {
	for attempt := 1; ; attempt++ {
		sc, err := sign()
		if err != nil {
			return nil, err
		}
		err = ca.store.InsertCertificate(ctx, actor, sc.Certificate, sc.Archive)
		if lanyard.ErrorCode(err) == lanyard.ECONFLICT && attempt < serialAttempts {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("issue certificate: %w", err)
		}
		return sc.Certificate, nil
	}
}

// sign signs a certificate of usage for pub.
func (ca *CA) sign(user *lanyard.User, usage lanyard.CertificateUsage, pub crypto.PublicKey, years int) (*lanyard.Certificate, error) {
	tmpl, err := ca.template(user, usage, pub, years, ca.now())
	if err != nil {
		return nil, err
	}
	der, err := ca.certificateDER(tmpl)
	if err != nil {
		return nil, fmt.Errorf("sign certificate: %w", err)
	}
	return &lanyard.Certificate{
		Serial: SerialString(tmpl.SerialNumber), UserID: user.ID, Usage: usage,
		NotBefore: tmpl.NotBefore, NotAfter: tmpl.NotAfter, Status: lanyard.CertificateValid, DER: der,
		CRLShard: crlShard(tmpl.NotAfter),
	}, nil
}
