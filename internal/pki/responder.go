package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/lanyard-id/lanyard"
)

// ocspValidity is the time from a response's thisUpdate to its nextUpdate.
// Responses are pre-signed and kept per status; one is signed afresh once
// it is half as old as that, so that no client ever gets one near its end.
const ocspValidity = 4 * time.Hour

// responder signs OCSP responses with the issuing CA's key. It answers for
// certificates of the issuing CA only; any other gets "unknown".
type responder struct {
	signer      crypto.Signer
	signing     signing
	responderID asn1.RawValue // with its DER
	nameHash    map[crypto.Hash][]byte
	keyHash     map[crypto.Hash][]byte
}

func newResponder(issuer *x509.Certificate, signer crypto.Signer) (*responder, error) {
	sg, err := signingFor(signer.Public())
	if err != nil {
		return nil, fmt.Errorf("OCSP: %w", err)
	}
	r := &responder{signer: signer, signing: sg, nameHash: map[crypto.Hash][]byte{}, keyHash: map[crypto.Hash][]byte{}}
	keyBits, err := subjectPublicKeyBits(issuer.RawSubjectPublicKeyInfo)
	if err != nil {
		return nil, err
	}
	for _, h := range hashOIDs {
		r.nameHash[h] = digest(h, issuer.RawSubject)
		r.keyHash[h] = digest(h, keyBits)
	}
	// ResponderID byKey: the SHA-1 hash of the key, as RFC 6960 defines it.
	keySum := sha1.Sum(keyBits)
	inner, _ := asn1.Marshal(keySum[:])
	id, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, IsCompound: true, Bytes: inner})
	r.responderID = asn1.RawValue{FullBytes: id}
	return r, nil
}

func digest(h crypto.Hash, data []byte) []byte {
	w := h.New()
	w.Write(data)
	return w.Sum(nil)
}

// respond answers a DER OCSP request with a DER OCSP response: a signed
// one, or malformedRequest or internalError.
//
// A request for one certificate by a SHA-1 CertID, as RFC 5019 clients
// send, without a nonce is answered by the certificate's pre-signed
// response (presignedAnswer). Every other request reads each
// certificate's status from the database, so a change made by any
// instance of a cluster shows in the very next answer: without a nonce,
// the answer is the response signed earlier for the same certificates in
// the same statuses, if it is younger than half its validity, otherwise
// one is signed and kept; with a nonce, within the instance's budget, a
// response of its own is signed afresh that echoes the nonce.
func (ca *CA) respond(ctx context.Context, der []byte) *ocspAnswer {
	p := ca.presigned
	if p != nil {
		if serial, ok := p.serials.get(der); ok {
			if a := ca.presignedAnswer(ctx, serial); a != nil {
				return a
			}
		}
	}
	reqs, nonceExt, err := parseOCSPRequest(der)
	if err != nil {
		return &ocspAnswer{der: statusOnly(ocspMalformedRequest)}
	}
	hadNonce := nonceExt != nil
	if nonceExt != nil && p != nil && !p.nonces.take() {
		nonceExt = nil // over the budget: the pre-signed answer, as RFC 5019 allows
	}
	if nonceExt == nil && len(reqs) == 1 && p != nil {
		if serial, ok := ca.presignable(reqs[0]); ok {
			if a := ca.presignedAnswer(ctx, serial); a != nil {
				if len(der) <= 512 && !hadNonce {
					p.serials.put(der, serial)
				}
				return a
			}
		}
	}
	singles := make([]singleResponse, len(reqs))
	var key []byte
	for i, req := range reqs {
		single, skey, err := ca.singleResponse(ctx, req)
		if err != nil {
			slog.Error("OCSP lookup", "err", err)
			return &ocspAnswer{der: statusOnly(ocspInternalError)}
		}
		singles[i] = single
		key = append(key, skey...)
	}
	now := ca.now().Truncate(time.Second)
	if nonceExt == nil {
		if a := ca.ocspCache.get(string(key)); a != nil && now.Before(a.thisUpdate.Add(ocspValidity/2)) && !now.Before(a.thisUpdate) {
			return a
		}
	}
	data := responseData{ResponderID: ca.responder.responderID, ProducedAt: now, Responses: singles}
	for i := range data.Responses {
		data.Responses[i].ThisUpdate, data.Responses[i].NextUpdate = now, now.Add(ocspValidity)
	}
	if nonceExt != nil {
		data.Extensions = []pkix.Extension{*nonceExt}
	}
	out, err := ca.responder.sign(data)
	if err != nil {
		slog.Error("sign OCSP response", "err", err)
		return &ocspAnswer{der: statusOnly(ocspInternalError)}
	}
	a := &ocspAnswer{der: out, thisUpdate: now, nextUpdate: now.Add(ocspValidity), nonce: nonceExt != nil}
	if !a.nonce {
		sum := sha256.Sum256(out)
		a.etag = `"` + hex.EncodeToString(sum[:16]) + `"`
		ca.ocspCache.put(string(key), a)
	}
	return a
}

// singleResponse looks one certificate up, and returns its answer without
// times and a cache key that names the certificate and its status.
// Certificates of other issuers, unknown hash algorithms and unknown
// serials are "unknown".
func (ca *CA) singleResponse(ctx context.Context, req singleRequest) (singleResponse, []byte, error) {
	out := singleResponse{CertID: asn1.RawValue{FullBytes: req.CertID.FullBytes}}
	key := binary.AppendUvarint(nil, uint64(len(req.CertID.FullBytes)))
	key = append(key, req.CertID.FullBytes...)
	var id certID
	rest, err := asn1.Unmarshal(req.CertID.FullBytes, &id)
	h, known := hashOIDs[id.HashAlgorithm.Algorithm.String()]
	if err != nil || len(rest) > 0 || !known || id.SerialNumber == nil || id.SerialNumber.Sign() <= 0 ||
		!bytes.Equal(id.NameHash, ca.responder.nameHash[h]) || !bytes.Equal(id.IssuerKeyHash, ca.responder.keyHash[h]) {
		out.Unknown = true
		return out, append(key, 'u'), nil
	}
	find := ca.store.FindCertificate
	if sf, ok := ca.store.(StatusFinder); ok {
		find = sf.FindCertificateStatus
	}
	cert, err := find(ctx, SerialString(id.SerialNumber))
	switch {
	case lanyard.ErrorCode(err) == lanyard.ENOTFOUND:
		out.Unknown = true
		key = append(key, 'u')
	case err != nil:
		return out, nil, err
	case cert.Status == lanyard.CertificateValid:
		out.Good = true
		key = append(key, 'g')
	default:
		out.Revoked = revokedInfo{RevocationTime: cert.RevokedAt.UTC().Truncate(time.Second), Reason: asn1.Enumerated(cert.Reason)}
		key = append(key, 'r')
		key = binary.AppendVarint(key, out.Revoked.RevocationTime.Unix())
		key = binary.AppendVarint(key, int64(cert.Reason))
	}
	return out, key, nil
}

// sign signs the response data and wraps it into an OCSPResponse. An RSA
// signature is verified before it is used, as the certificates' and CRLs'
// are (signing.sign).
func (r *responder) sign(data responseData) ([]byte, error) {
	tbs, err := encodeResponseData(&data)
	if err != nil {
		return nil, fmt.Errorf("encode OCSP response: %w", err)
	}
	signed, err := r.signing.sign(r.signer, tbs)
	if err != nil {
		return nil, fmt.Errorf("sign OCSP response: %w", err)
	}
	return encodeOCSPResponse(tbs, signed)
}
