package lanyard

import (
	"context"
	"crypto/rsa"
	"slices"
	"strconv"
	"time"
)

// MaxValidityYears bounds the validity of a mobile ID's certificates, as
// the options may set it. A certificate never outlives the issuing CA: one
// issued late in the CA's life ends with it.
const MaxValidityYears = 10

// CertificateUsage is what a certificate of a mobile ID is for. Each usage
// has one certificate profile in the CA.
type CertificateUsage string

// The certificate usages.
const (
	UsageSignature      CertificateUsage = "signature"
	UsageAuthentication CertificateUsage = "authentication"
	UsageEncryption     CertificateUsage = "encryption"
)

// CertificateUsages lists every usage in the order the portal shows them.
var CertificateUsages = []CertificateUsage{UsageSignature, UsageAuthentication, UsageEncryption}

// Valid reports whether u is one of the usages.
func (u CertificateUsage) Valid() bool { return slices.Contains(CertificateUsages, u) }

// CertificateStatus is the revocation state of a certificate as the CRL and
// the OCSP responder report it.
type CertificateStatus string

// The certificate states. A certificate on hold is suspended and comes back
// on release; a revoked certificate never does.
const (
	CertificateValid   CertificateStatus = "valid"
	CertificateRevoked CertificateStatus = "revoked"
	CertificateOnHold  CertificateStatus = "on_hold"
)

// Certificate is an end-entity certificate the CA issued to a user.
type Certificate struct {
	Serial    string // lower-case hexadecimal, without leading zeros
	UserID    int64
	Usage     CertificateUsage
	NotBefore time.Time
	NotAfter  time.Time
	Status    CertificateStatus
	// RevokedAt and Reason are set while the certificate is revoked or on
	// hold (Reason is ReasonCertificateHold then).
	RevokedAt time.Time
	Reason    RevocationReason
	DER       []byte
	IssuedAt  time.Time
	// ArchivedKeyID is the key archive record of a server-made encryption
	// key, or 0 when the key was made on the device.
	ArchivedKeyID int64
	// CRLShard names the partition of the CRL that lists c when revoked,
	// as c's CRL distribution point does; it is empty for certificates
	// issued before CRLs were partitioned, which only the complete CRL
	// lists.
	CRLShard string
}

// Expired reports whether c is past its validity at time now.
func (c *Certificate) Expired(now time.Time) bool { return now.After(c.NotAfter) }

// Revoke revokes c for good at time at. Revoking a revoked certificate
// changes nothing and is no error, so a retried revocation is harmless; a
// certificate on hold may be revoked.
func (c *Certificate) Revoke(reason RevocationReason, at time.Time) (changed bool, err error) {
	if !reason.Valid() || reason == ReasonCertificateHold || reason == ReasonRemoveFromCRL {
		return false, Errorf(EINVALID, "The revocation reason %d is not one a certificate may be revoked with; use hold for a suspension.", reason)
	}
	if c.Status == CertificateRevoked {
		return false, nil
	}
	c.Status, c.Reason, c.RevokedAt = CertificateRevoked, reason, at
	return true, nil
}

// Hold suspends c. Holding a certificate on hold changes nothing; a
// revoked certificate cannot be held.
func (c *Certificate) Hold(at time.Time) (changed bool, err error) {
	switch c.Status {
	case CertificateOnHold:
		return false, nil
	case CertificateRevoked:
		return false, Errorf(ECONFLICT, "The certificate %s is revoked and cannot be put on hold.", c.Serial)
	}
	c.Status, c.Reason, c.RevokedAt = CertificateOnHold, ReasonCertificateHold, at
	return true, nil
}

// Release ends the hold of c. Releasing a valid certificate changes
// nothing; a revoked certificate cannot be released.
func (c *Certificate) Release() (changed bool, err error) {
	switch c.Status {
	case CertificateValid:
		return false, nil
	case CertificateRevoked:
		return false, Errorf(ECONFLICT, "The certificate %s is revoked for good and cannot be released.", c.Serial)
	}
	c.Status, c.Reason, c.RevokedAt = CertificateValid, ReasonUnspecified, time.Time{}
	return true, nil
}

// ArchivedKey is a server-made private key kept for recovery. The key is
// encrypted under its own data key, which is wrapped by the key-recovery
// key; nothing in it is in clear.
type ArchivedKey struct {
	ID         int64
	UserID     int64
	Serial     string
	Algorithm  string // e.g. "rsa-2048"
	WrappedKey []byte // the data key, sealed by the key-recovery key
	Ciphertext []byte // the PKCS#8 private key, sealed by the data key
	CreatedAt  time.Time
}

// SignedCertificate is a certificate the CA signed and nothing recorded
// yet, with the sealed archive of its key when the server made the key.
// The store records it in the transaction that hands it to a mobile ID, so
// a certificate is known to OCSP exactly when it was delivered.
type SignedCertificate struct {
	Certificate *Certificate
	Archive     *ArchivedKey
}

// CertificateService issues, revokes and finds the certificates of users'
// mobile IDs, and keeps the archive of server-made encryption keys. Every
// change is audited with the actor who made it.
type CertificateService interface {
	// IssueCertificate issues a certificate of the given usage (signature or
	// authentication) for the key in a PKCS#10 request (DER or PEM), valid
	// for the given number of years. Subject and email come from user; a
	// request naming another email address is refused with EINVALID.
	IssueCertificate(ctx context.Context, actor Actor, user *User, usage CertificateUsage, csr []byte, validityYears int) (*Certificate, error)
	// IssueEncryptionCertificate makes an RSA key of rsaBits (0: 2048; 2048
	// or 3072), archives it encrypted for recovery, and issues an encryption
	// certificate for it. The key is returned for delivery to the device.
	IssueEncryptionCertificate(ctx context.Context, actor Actor, user *User, rsaBits, validityYears int) (*Certificate, *rsa.PrivateKey, error)
	// RecoverKey returns the archived private key of the user's encryption
	// certificate with the given serial, for delivery to a new device.
	RecoverKey(ctx context.Context, actor Actor, userID int64, serial string) (*rsa.PrivateKey, error)
	// FindArchivedCertificates lists the user's encryption certificates
	// whose keys are archived, newest first, expired ones included.
	FindArchivedCertificates(ctx context.Context, userID int64) ([]*Certificate, error)
	// RevokeCertificate revokes for good; it is idempotent.
	RevokeCertificate(ctx context.Context, actor Actor, serial string, reason RevocationReason) (*Certificate, error)
	// HoldCertificate suspends a certificate, as for an inactive mobile ID.
	HoldCertificate(ctx context.Context, actor Actor, serial string) (*Certificate, error)
	// ReleaseCertificate ends a hold.
	ReleaseCertificate(ctx context.Context, actor Actor, serial string) (*Certificate, error)
	FindCertificateBySerial(ctx context.Context, serial string) (*Certificate, error)
	// FindCertificatesByUser lists the user's certificates, newest first.
	FindCertificatesByUser(ctx context.Context, userID int64) ([]*Certificate, error)
}

// RevocationReason is a CRLReason of RFC 5280 section 5.3.1; its values are
// the ones the CRL and OCSP responses carry.
type RevocationReason int

// The RFC 5280 revocation reasons (value 7 is unused).
const (
	ReasonUnspecified          RevocationReason = 0
	ReasonKeyCompromise        RevocationReason = 1
	ReasonCACompromise         RevocationReason = 2
	ReasonAffiliationChanged   RevocationReason = 3
	ReasonSuperseded           RevocationReason = 4
	ReasonCessationOfOperation RevocationReason = 5
	ReasonCertificateHold      RevocationReason = 6
	ReasonRemoveFromCRL        RevocationReason = 8
	ReasonPrivilegeWithdrawn   RevocationReason = 9
	ReasonAACompromise         RevocationReason = 10
)

var reasonNames = map[RevocationReason]string{
	ReasonUnspecified:          "unspecified",
	ReasonKeyCompromise:        "keyCompromise",
	ReasonCACompromise:         "cACompromise",
	ReasonAffiliationChanged:   "affiliationChanged",
	ReasonSuperseded:           "superseded",
	ReasonCessationOfOperation: "cessationOfOperation",
	ReasonCertificateHold:      "certificateHold",
	ReasonRemoveFromCRL:        "removeFromCRL",
	ReasonPrivilegeWithdrawn:   "privilegeWithdrawn",
	ReasonAACompromise:         "aACompromise",
}

// Valid reports whether r is one of the RFC 5280 reasons.
func (r RevocationReason) Valid() bool { _, ok := reasonNames[r]; return ok }

// String returns the RFC 5280 name of r, such as "keyCompromise".
func (r RevocationReason) String() string {
	if n, ok := reasonNames[r]; ok {
		return n
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}
