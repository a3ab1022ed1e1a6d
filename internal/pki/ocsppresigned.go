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
	"math/big"
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

// presign signs the response of c in its status at now, for the SHA-1
// CertID RFC 5019 clients send, without certificates: the issuing CA
// signs it, so the client has its certificate already.
func (ca *CA) presign(c *lanyard.Certificate, now time.Time) ([]byte, time.Time, error) {
	serial, ok := new(big.Int).SetString(c.Serial, 16)
	if !ok {
		return nil, time.Time{}, lanyard.Errorf(lanyard.EINVALID, "%q is not a certificate serial number.", c.Serial)
	}
	h := hashOIDs["1.3.14.3.2.26"]
	id, err := asn1.Marshal(certID{
		HashAlgorithm: pkixSHA1(),
		NameHash:      ca.responder.nameHash[h],
		IssuerKeyHash: ca.responder.keyHash[h],
		SerialNumber:  serial,
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	now = now.UTC().Truncate(time.Second)
	single := singleResponse{CertID: asn1.RawValue{FullBytes: id}, ThisUpdate: now, NextUpdate: now.Add(ocspValidity)}
	switch c.Status {
	case lanyard.CertificateValid:
		single.Good = true
	default:
		single.Revoked = revokedInfo{RevocationTime: c.RevokedAt.UTC().Truncate(time.Second), Reason: asn1.Enumerated(c.Reason)}
	}
	der, err := ca.responder.sign(responseData{ResponderID: ca.responder.responderID, ProducedAt: now, Responses: []singleResponse{single}})
	return der, now, err
}

// SignAheadOCSP signs again, in batches, the stored responses that are
// ocspRefreshAge old or missing, and returns how many it stored. One
// instance of a cluster does it at a time, under a lease in the database;
// the others return at once. Run it every few minutes.
func (ca *CA) SignAheadOCSP(ctx context.Context) (int, error) {
	p := ca.presigned
	if p == nil {
		return 0, nil
	}
	held, err := p.store.AcquireOCSPLease(ctx, p.holder, ca.now().Add(ocspLeaseTime))
	if err != nil || !held {
		return 0, err
	}
	defer func() {
		if err := p.store.ReleaseOCSPLease(context.WithoutCancel(ctx), p.holder); err != nil {
			slog.Warn("release the OCSP signing lease", "err", err)
		}
	}()
	n := 0
	for {
		now := ca.now()
		recs, err := p.store.AgingOCSPResponses(ctx, now.Add(-ocspRefreshAge), signAheadBatch)
		if err != nil || len(recs) == 0 {
			return n, err
		}
		for _, r := range recs {
			if r.NotAfter.Before(now) {
				r.Retired = true
				continue
			}
			if r.DER, r.ThisUpdate, err = ca.presign(r.certificate(), now); err != nil {
				return n, err
			}
		}
		if err := p.store.StoreOCSPResponses(ctx, recs); err != nil {
			return n, err
		}
		n += len(recs)
		if len(recs) < signAheadBatch {
			return n, nil
		}
		if held, err := p.store.AcquireOCSPLease(ctx, p.holder, ca.now().Add(ocspLeaseTime)); err != nil || !held {
			return n, err
		}
	}
}

// requestSerials maps the DER of requests a pre-signed response answers
// to their serial. A request always asks about the same serial, so the
// map is never wrong, only bounded: when full, it starts again.
type requestSerials struct {
	mu sync.RWMutex
	m  map[string]string
}

// maxRequestSerials bounds the map: some 8 MB at 160 bytes an entry.
const maxRequestSerials = 50_000

func (r *requestSerials) get(der []byte) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.m[string(der)]
	return s, ok
}

func (r *requestSerials) put(der []byte, serial string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || len(r.m) >= maxRequestSerials {
		r.m = make(map[string]string)
	}
	r.m[string(der)] = serial
}

// tokenBucket allows rate events per second, with a burst of as many.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newTokenBucket(rate int, now func() time.Time) *tokenBucket {
	return &tokenBucket{rate: float64(rate), tokens: float64(rate), last: now(), now: now}
}

// take reports whether an event is allowed now, and counts it if so.
func (b *tokenBucket) take() bool {
	if b.rate <= 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.rate, b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
