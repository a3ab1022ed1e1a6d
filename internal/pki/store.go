package pki

import (
	"context"
	"time"

	"github.com/lanyard-id/lanyard"
)

// Store is what the CA keeps in the database. Everything lives there, not
// in files, so that every instance of a cluster serves one CA, one CRL and
// one set of certificates. Mutating methods write their audit event in the
// same transaction. internal/store implements it.
type Store interface {
	KeyStore

	// FindCA returns the CA, or ENOTFOUND before the first start.
	FindCA(ctx context.Context) (*CARecord, error)
	// CreateCA stores rec unless a CA exists already, and returns the CA
	// that is in the database afterwards: rec, or the one another instance
	// created first.
	CreateCA(ctx context.Context, actor lanyard.Actor, rec *CARecord) (*CARecord, error)

	// InsertCertificate stores a newly issued certificate, and its archived
	// key if key is not nil, setting c.IssuedAt and c.ArchivedKeyID. A serial
	// that exists already gives ECONFLICT.
	InsertCertificate(ctx context.Context, actor lanyard.Actor, c *lanyard.Certificate, key *ArchivedKey) error
	// FindCertificate returns the certificate with the given serial (in the
	// stored form), or ENOTFOUND.
	FindCertificate(ctx context.Context, serial string) (*lanyard.Certificate, error)
	// FindCertificates lists a user's certificates, newest first; archived
	// limits the list to those with an archived key.
	FindCertificates(ctx context.Context, userID int64, archived bool) ([]*lanyard.Certificate, error)
	// UpdateStatus loads the certificate, applies change to it and, if
	// change reports a change, stores the new status and writes the audit
	// event action with detail.
	UpdateStatus(ctx context.Context, actor lanyard.Actor, serial, action string, change func(c *lanyard.Certificate, now time.Time) (changed bool, detail string, err error)) (*lanyard.Certificate, error)
	// EachRevoked calls fn, with what a CRL entry needs, for every revoked
	// or held certificate of shard ("" for every shard: the complete CRL)
	// that has not expired at now, stopping at fn's first error. The
	// serial, in the stored form, is valid only until fn returns.
	EachRevoked(ctx context.Context, shard string, now time.Time, fn func(serial []byte, revokedAt time.Time, reason lanyard.RevocationReason) error) error

	// RecoverArchivedKey returns the archived key of the user's certificate
	// with the given serial and audits the recovery.
	RecoverArchivedKey(ctx context.Context, actor lanyard.Actor, userID int64, serial string) (*ArchivedKey, error)

	// LatestCRL returns the complete CRL with the highest number, or
	// ENOTFOUND.
	LatestCRL(ctx context.Context) (*CRLRecord, error)
	// LatestCRLHeader is LatestCRL without the DER.
	LatestCRLHeader(ctx context.Context) (*CRLRecord, error)
	// InsertCRL stores a complete CRL; a number that exists already gives
	// ECONFLICT.
	InsertCRL(ctx context.Context, crl *CRLRecord) error
	// CRLGeneration returns a number that grows with every transaction
	// that changes a certificate's status.
	CRLGeneration(ctx context.Context) (int64, error)
	// CRLOwed reports whether the generation is above the one the latest
	// CRL covers: a status changed that no CRL lists yet.
	CRLOwed(ctx context.Context) (bool, error)

	// CRLShards lists every shard certificates name, with the generation
	// of their statuses and their latest CRL's number, covers and
	// thisUpdate (zero before the first).
	CRLShards(ctx context.Context) ([]CRLShardState, error)
	// CRLShardGeneration returns the generation of the statuses of shard's
	// certificates, or ENOTFOUND.
	CRLShardGeneration(ctx context.Context, shard string) (int64, error)
	// FindShardCRL returns the latest CRL of shard, or ENOTFOUND.
	FindShardCRL(ctx context.Context, shard string) (*CRLRecord, error)
	// PublishShardCRL makes crl the latest of crl.Shard if the latest so
	// far has number crl.Number-1 (none, for 1), else gives ECONFLICT.
	PublishShardCRL(ctx context.Context, crl *CRLRecord) error
	// DeleteCRLShard forgets a shard and its CRL.
	DeleteCRLShard(ctx context.Context, shard string) error
}

// StatusFinder is what a Store may offer to read a certificate's status
// faster than FindCertificate; the OCSP responder, which reads it for every
// request, uses it when the Store has it.
type StatusFinder interface {
	// FindCertificateStatus returns the certificate with the given serial
	// with Serial, Status, RevokedAt and Reason set, or ENOTFOUND.
	FindCertificateStatus(ctx context.Context, serial string) (*lanyard.Certificate, error)
}

// KeyStore keeps the sealed private keys of the software key backend.
type KeyStore interface {
	// InsertKey stores a sealed key; a label in use gives ECONFLICT.
	InsertKey(ctx context.Context, k *KeyRecord) error
	// FindKey returns the key with the given label, or ENOTFOUND.
	FindKey(ctx context.Context, label string) (*KeyRecord, error)
	// DeleteKey removes the key with the given label, if there is one.
	DeleteKey(ctx context.Context, label string) error
}

// CARecord is the CA as stored: both certificates in clear, the private keys
// by their labels in the key backend, and the key-recovery key sealed under
// the master key.
type CARecord struct {
	Algorithm       KeyAlgorithm
	Backend         string // the key backend's name, e.g. "software"
	RootCert        []byte // DER
	IssuingCert     []byte // DER
	RootKeyLabel    string
	IssuingKeyLabel string
	RecoveryKey     []byte // the sealed key-recovery key
	CreatedAt       time.Time
}

// KeyRecord is a private key sealed under the master key.
type KeyRecord struct {
	Label     string
	Algorithm KeyAlgorithm
	Sealed    []byte
	CreatedAt time.Time
}

// ArchivedKey is a server-made private key kept for recovery, sealed.
type ArchivedKey = lanyard.ArchivedKey

// CRLRecord is a signed CRL as every instance serves it.
type CRLRecord struct {
	// Shard names the partition the CRL lists, "" for the complete CRL.
	Shard      string
	Number     int64
	ThisUpdate time.Time
	NextUpdate time.Time
	// Covers is the status generation the CRL lists every change up to.
	Covers int64
	DER    []byte
}

// CRLShardState is where a shard of the CRL stands: Generation above
// Covers means a status changed that its latest CRL does not list yet.
type CRLShardState struct {
	Shard      string
	Generation int64
	Number     int64 // of the latest CRL, 0 before the first
	Covers     int64
	ThisUpdate time.Time
}
