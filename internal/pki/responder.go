package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"log/slog"
	"time"

	"github.com/lanyard-id/lanyard"
)

// ocspValidity is the time from a response's thisUpdate to its nextUpdate.
// Responses are signed on demand from the database, so a status change
// shows at once to clients that do not cache.
const ocspValidity = time.Hour

// responder signs OCSP responses with the issuing CA's key. It answers for
// certificates of the issuing CA only; any other gets "unknown".
type responder struct {
	signer      crypto.Signer
	hash        crypto.Hash
	sigAlg      pkix.AlgorithmIdentifier
	responderID asn1.RawValue
	nameHash    map[crypto.Hash][]byte
	keyHash     map[crypto.Hash][]byte
}

func newResponder(issuer *x509.Certificate, signer crypto.Signer) (*responder, error) {
	r := &responder{signer: signer, nameHash: map[crypto.Hash][]byte{}, keyHash: map[crypto.Hash][]byte{}}
	switch k := signer.Public().(type) {
	case *ecdsa.PublicKey:
		r.hash, r.sigAlg.Algorithm = crypto.SHA256, asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
		if k.Curve == elliptic.P384() {
			r.hash, r.sigAlg.Algorithm = crypto.SHA384, asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
		}
	case *rsa.PublicKey:
		r.hash, r.sigAlg.Algorithm = crypto.SHA256, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
		r.sigAlg.Parameters = asn1.NullRawValue
	default:
		return nil, fmt.Errorf("OCSP: unsupported issuer key %T", k)
	}
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
	r.responderID = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, IsCompound: true, Bytes: inner}
	return r, nil
}

func digest(h crypto.Hash, data []byte) []byte {
	w := h.New()
	w.Write(data)
	return w.Sum(nil)
}

// respond answers a DER OCSP request with a DER OCSP response: a signed
// one, or malformedRequest or internalError. It reports whether the
// request carried a nonce, which makes the response uncacheable.
func (ca *CA) respond(ctx context.Context, der []byte) (resp []byte, nonce bool) {
	reqs, nonceExt, err := parseOCSPRequest(der)
	if err != nil {
		return statusOnly(ocspMalformedRequest), false
	}
	now := ca.now().Truncate(time.Second)
	data := responseData{ResponderID: ca.responder.responderID, ProducedAt: now}
	for _, req := range reqs {
		single, err := ca.singleResponse(ctx, req, now)
		if err != nil {
			slog.Error("OCSP lookup", "err", err)
			return statusOnly(ocspInternalError), false
		}
		data.Responses = append(data.Responses, single)
	}
	if nonceExt != nil {
		data.Extensions = []pkix.Extension{*nonceExt}
	}
	out, err := ca.responder.sign(data)
	if err != nil {
		slog.Error("sign OCSP response", "err", err)
		return statusOnly(ocspInternalError), false
	}
	return out, nonceExt != nil
}

// singleResponse looks one certificate up. Certificates of other issuers,
// unknown hash algorithms and unknown serials are "unknown".
func (ca *CA) singleResponse(ctx context.Context, req singleRequest, now time.Time) (singleResponse, error) {
	out := singleResponse{CertID: asn1.RawValue{FullBytes: req.CertID.FullBytes}, ThisUpdate: now, NextUpdate: now.Add(ocspValidity)}
	var id certID
	rest, err := asn1.Unmarshal(req.CertID.FullBytes, &id)
	h, known := hashOIDs[id.HashAlgorithm.Algorithm.String()]
	if err != nil || len(rest) > 0 || !known || id.SerialNumber == nil || id.SerialNumber.Sign() <= 0 ||
		!bytes.Equal(id.NameHash, ca.responder.nameHash[h]) || !bytes.Equal(id.IssuerKeyHash, ca.responder.keyHash[h]) {
		out.Unknown = true
		return out, nil
	}
	cert, err := ca.store.FindCertificate(ctx, SerialString(id.SerialNumber))
	switch {
	case lanyard.ErrorCode(err) == lanyard.ENOTFOUND:
		out.Unknown = true
	case err != nil:
		return out, err
	case cert.Status == lanyard.CertificateValid:
		out.Good = true
	default:
		out.Revoked = revokedInfo{RevocationTime: cert.RevokedAt.Truncate(time.Second), Reason: asn1.Enumerated(cert.Reason)}
	}
	return out, nil
}

// sign signs the response data and wraps it into an OCSPResponse.
func (r *responder) sign(data responseData) ([]byte, error) {
	tbs, err := asn1.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode OCSP response: %w", err)
	}
	sig, err := r.signer.Sign(rand.Reader, digest(r.hash, tbs), r.hash)
	if err != nil {
		return nil, fmt.Errorf("sign OCSP response: %w", err)
	}
	basic, err := asn1.Marshal(basicResponse{
		TBSResponseData:    asn1.RawValue{FullBytes: tbs},
		SignatureAlgorithm: r.sigAlg,
		Signature:          asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
	})
	if err != nil {
		return nil, fmt.Errorf("encode OCSP response: %w", err)
	}
	return asn1.Marshal(ocspResponse{Status: ocspSuccessful, Bytes: responseBytes{Type: oidOCSPBasic, Response: basic}})
}
