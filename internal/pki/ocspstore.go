package pki

import (
	"context"
	"time"

	"github.com/lanyard-id/lanyard"
)

// OCSPStore is what a Store may offer so that OCSP is answered from
// responses signed ahead: each certificate's response for its current
// status is kept in the database beside it, signed in the transaction that
// issues the certificate or changes its status, and refreshed before it
// ages by SignAheadOCSP. Every instance of a cluster, a restarted one too,
// answers from those responses without signing, and keeps them in memory
// for as long as WatchStatus tells it of every change.
type OCSPStore interface {
	// SetOCSPSigner gives the store what signs a certificate's response,
	// so that issuance and every status change store the response of the
	// new status in their own transaction.
	SetOCSPSigner(OCSPSigner)
	// FindOCSPResponse returns the certificate's status and its stored
	// response (DER nil when there is none for this status), or ENOTFOUND.
	FindOCSPResponse(ctx context.Context, serial string) (*OCSPRecord, error)
	// StoreOCSPResponses keeps each record's DER as its certificate's
	// response, in one transaction, for the certificates that still have
	// the record's status and whose stored response is older. A record
	// with Retired set keeps its response as it is and leaves the
	// certificate out of AgingOCSPResponses from then on.
	StoreOCSPResponses(ctx context.Context, recs []*OCSPRecord) error
	// AgingOCSPResponses returns up to limit certificates, with their
	// status, whose response was signed before the given time or is
	// missing, oldest first.
	AgingOCSPResponses(ctx context.Context, before time.Time, limit int) ([]*OCSPRecord, error)
	// AcquireOCSPLease takes or renews, until the given time, the lease
	// that lets one instance of a cluster sign ahead at a time; false
	// means another holder has it.
	AcquireOCSPLease(ctx context.Context, holder string, until time.Time) (bool, error)
	// ReleaseOCSPLease gives the lease up, if holder has it.
	ReleaseOCSPLease(ctx context.Context, holder string) error
	// WatchStatus calls fn with the serials of the certificates whose
	// status changed, after each commit, from now until the watch is
	// closed: at once for this instance's own changes, and as soon as
	// the database tells of other instances' ones. A nil slice means that
	// any certificate may have changed.
	WatchStatus(fn func(serials []string)) StatusWatch
}

// StatusWatch is a running WatchStatus.
type StatusWatch interface {
	// Live reports whether every other instance's change reaches the
	// watch now; while it does not, a status must be read from the
	// database.
	Live() bool
	// Close ends the watch.
	Close()
}

// OCSPSigner signs the response of a certificate in its status at now and
// returns it with the thisUpdate it carries.
type OCSPSigner func(c *lanyard.Certificate, now time.Time) (der []byte, thisUpdate time.Time, err error)

// OCSPRecord is a certificate's status with the response stored for it.
type OCSPRecord struct {
	Serial    string
	Status    lanyard.CertificateStatus
	RevokedAt time.Time
	Reason    lanyard.RevocationReason
	NotAfter  time.Time
	// ThisUpdate and DER are the stored response; DER is nil when none is
	// stored for the current status.
	ThisUpdate time.Time
	DER        []byte
	// Retired marks a response that is no longer refreshed: its
	// certificate has expired.
	Retired bool
}

func (r *OCSPRecord) certificate() *lanyard.Certificate {
	return &lanyard.Certificate{Serial: r.Serial, Status: r.Status, RevokedAt: r.RevokedAt, Reason: r.Reason, NotAfter: r.NotAfter}
}
