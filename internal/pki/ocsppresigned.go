package pki

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanyard-id/lanyard"
)

// How old a pre-signed response may get. Each is valid for ocspValidity;
// the sign-ahead job signs it again once it is ocspRefreshAge old, and it
// is served until it is ocspServeAge old, so that the job has an hour to
// spare and no client gets a response past half its validity.
const (
	ocspRefreshAge = ocspValidity / 4
	ocspServeAge   = ocspValidity / 2
	// ocspClockSkew is how far in the future another instance's
	// thisUpdate may lie and still be served.
	ocspClockSkew = time.Minute
	// signAheadBatch is how many responses one transaction stores.
	signAheadBatch = 500
	// ocspLeaseTime is how long the sign-ahead lease lasts unless renewed
	// after each batch.
	ocspLeaseTime = 2 * time.Minute
	// defaultNonceRate is how many nonce requests per second an instance
	// signs afresh (with as large a burst); beyond, they get the
	// pre-signed response without the nonce, as RFC 5019 allows.
	defaultNonceRate = 200
)

var oidSHA1 = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}

// pkixSHA1 is SHA-1 as a CertID names it, with the NULL parameters
// OpenSSL and Go's OCSP clients send.
func pkixSHA1() pkix.AlgorithmIdentifier {
	return pkix.AlgorithmIdentifier{Algorithm: oidSHA1, Parameters: asn1.NullRawValue}
}

// presignedOCSP answers single-certificate requests from responses signed
// ahead: from memory while the store's watch reports every status change,
// else from the database, where each certificate's response is kept for
// its current status.
type presignedOCSP struct {
	store OCSPStore
	mem   *ocspCache // by serial
	// watch starts with the first OCSP request, so that the
	// administration commands, which open the CA too, start none.
	watchOnce sync.Once
	watchMu   sync.Mutex
	watch     StatusWatch
	closed    bool
	holder    string // this instance, as the sign-ahead lease names it
	nonces    *tokenBucket
	// serials remembers which serial a request without a nonce asks
	// about, so that a client asking again costs no ASN.1 parsing.
	serials requestSerials

	fromMemory, fromDatabase, signed atomic.Int64
}

// OCSPStats counts how this instance answered OCSP requests without a
// nonce for one certificate: from memory, from the response stored in the
// database, or signed on the spot because none was stored.
type OCSPStats struct {
	Memory, Database, Signed int64
}

// OCSPStats returns the counts so far.
func (ca *CA) OCSPStats() OCSPStats {
	if ca.presigned == nil {
		return OCSPStats{}
	}
	p := ca.presigned
	return OCSPStats{Memory: p.fromMemory.Load(), Database: p.fromDatabase.Load(), Signed: p.signed.Load()}
}

// OCSPWatchLive reports whether this instance learns of every status
// change as it is committed, and so answers OCSP from memory; while it
// does not, it reads each status from the database.
func (ca *CA) OCSPWatchLive() bool { return ca.presigned != nil && ca.presigned.live() }

// startPresigned wires the pre-signed responses when the store keeps them.
func (ca *CA) startPresigned() {
	st, ok := ca.store.(OCSPStore)
	if !ok {
		return
	}
	id := make([]byte, 8)
	rand.Read(id)
	p := &presignedOCSP{store: st, mem: newOCSPCache(ca.cfg.OCSPCacheBytes - ca.cfg.OCSPCacheBytes/4), holder: hex.EncodeToString(id)}
	rate := ca.cfg.OCSPNonceRate
	if rate == 0 {
		rate = defaultNonceRate
	}
	p.nonces = newTokenBucket(max(rate, 0), ca.now)
	st.SetOCSPSigner(ca.presign)
	ca.presigned = p
}

// stopPresigned ends the watch.
func (ca *CA) stopPresigned() {
	if p := ca.presigned; p != nil {
		p.watchMu.Lock()
		defer p.watchMu.Unlock()
		p.closed = true
		if p.watch != nil {
			p.watch.Close()
		}
	}
}

// live reports whether the watch is live, starting it on the first call.
func (p *presignedOCSP) live() bool {
	p.watchOnce.Do(func() {
		p.watchMu.Lock()
		defer p.watchMu.Unlock()
		if !p.closed {
			p.watch = p.store.WatchStatus(p.forget)
		}
	})
	p.watchMu.Lock()
	w := p.watch
	p.watchMu.Unlock()
	return w != nil && w.Live()
}

// forget drops the responses of the serials from memory; nil drops all.
func (p *presignedOCSP) forget(serials []string) {
	if serials == nil {
		p.mem.clear()
		return
	}
	p.mem.drop(serials)
}

// presignable returns the serial of a request that a pre-signed response
// answers: a SHA-1 CertID (what RFC 5019 clients send) of this CA.
func (ca *CA) presignable(req singleRequest) (string, bool) {
	var id certID
	rest, err := asn1.Unmarshal(req.CertID.FullBytes, &id)
	if err != nil || len(rest) > 0 || !id.HashAlgorithm.Algorithm.Equal(oidSHA1) || id.SerialNumber == nil || id.SerialNumber.Sign() <= 0 ||
		!bytes.Equal(id.NameHash, ca.responder.nameHash[hashOIDs["1.3.14.3.2.26"]]) ||
		!bytes.Equal(id.IssuerKeyHash, ca.responder.keyHash[hashOIDs["1.3.14.3.2.26"]]) {
		return "", false
	}
	return SerialString(id.SerialNumber), true
}

// fresh reports whether a response of thisUpdate may still be served.
func fresh(thisUpdate, now time.Time) bool {
	return !thisUpdate.IsZero() && !now.Add(ocspClockSkew).Before(thisUpdate) && now.Before(thisUpdate.Add(ocspServeAge))
}

// presignedAnswer answers for one certificate from memory or the
// database, or returns nil when the certificate is not in the database
// (the general path answers "unknown").
func (ca *CA) presignedAnswer(ctx context.Context, serial string) *ocspAnswer {
	p := ca.presigned
	now := ca.now()
	live := p.live()
	if live {
		if a := p.mem.get(serial); a != nil && fresh(a.thisUpdate, now) {
			p.fromMemory.Add(1)
			return a
		}
	}
	gen := p.mem.generation()
	rec, err := p.store.FindOCSPResponse(ctx, serial)
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		return nil
	} else if err != nil {
		slog.Error("OCSP lookup", "err", err)
		return &ocspAnswer{der: statusOnly(ocspInternalError)}
	}
	var a *ocspAnswer
	if rec.DER != nil && fresh(rec.ThisUpdate, now) {
		p.fromDatabase.Add(1)
		a = cacheableAnswer(rec.DER, rec.ThisUpdate)
	} else {
		// None stored for this status (a certificate from before responses
		// were stored, a status changed where no CA key was at hand, an
		// expired certificate), or the sign-ahead job is behind.
		der, this, err := ca.presign(rec.certificate(), now)
		if err != nil {
			slog.Error("sign OCSP response", "err", err)
			return &ocspAnswer{der: statusOnly(ocspInternalError)}
		}
		p.signed.Add(1)
		if !rec.Retired {
			stored := *rec
			stored.DER, stored.ThisUpdate = der, this
			if err := p.store.StoreOCSPResponses(ctx, []*OCSPRecord{&stored}); err != nil {
				slog.Warn("store OCSP response", "err", err)
			}
		}
		a = cacheableAnswer(der, this)
	}
	p.mem.putIf(serial, a, gen)
	return a
}

func cacheableAnswer(der []byte, thisUpdate time.Time) *ocspAnswer {
	sum := sha256.Sum256(der)
	return &ocspAnswer{der: der, thisUpdate: thisUpdate, nextUpdate: thisUpdate.Add(ocspValidity), etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}
