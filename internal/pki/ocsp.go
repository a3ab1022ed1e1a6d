package pki

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"time"
)

// The OCSP messages of RFC 6960, written out here because the request's and
// the response's extensions (the nonce) are needed and no library in the
// module exposes them.

type ocspRequest struct {
	TBSRequest        tbsRequest
	OptionalSignature asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type tbsRequest struct {
	Version       int           `asn1:"explicit,tag:0,default:0,optional"`
	RequestorName asn1.RawValue `asn1:"explicit,tag:1,optional"`
	RequestList   []singleRequest
	Extensions    []pkix.Extension `asn1:"explicit,tag:2,optional"`
}

type singleRequest struct {
	CertID     asn1.RawValue
	Extensions []pkix.Extension `asn1:"explicit,tag:0,optional"`
}

type certID struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	NameHash      []byte
	IssuerKeyHash []byte
	SerialNumber  *big.Int
}

type ocspResponse struct {
	Status asn1.Enumerated
	Bytes  responseBytes `asn1:"explicit,tag:0,optional"`
}

type responseBytes struct {
	Type     asn1.ObjectIdentifier
	Response []byte
}

type responseData struct {
	Version     int `asn1:"optional,default:0,explicit,tag:0"`
	ResponderID asn1.RawValue
	ProducedAt  time.Time `asn1:"generalized"`
	Responses   []singleResponse
	Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type singleResponse struct {
	CertID     asn1.RawValue
	Good       asn1.Flag   `asn1:"tag:0,optional"`
	Revoked    revokedInfo `asn1:"tag:1,optional"`
	Unknown    asn1.Flag   `asn1:"tag:2,optional"`
	ThisUpdate time.Time   `asn1:"generalized"`
	NextUpdate time.Time   `asn1:"generalized,explicit,tag:0,optional"`
}

type revokedInfo struct {
	RevocationTime time.Time       `asn1:"generalized"`
	Reason         asn1.Enumerated `asn1:"explicit,tag:0,optional"`
}

// OCSP response statuses (RFC 6960 section 4.2.1).
const (
	ocspSuccessful       = 0
	ocspMalformedRequest = 1
	ocspInternalError    = 2
)

var (
	oidOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidOCSPNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
)

// hashOIDs are the CertID hash algorithms the responder understands.
var hashOIDs = map[string]crypto.Hash{
	"1.3.14.3.2.26":          crypto.SHA1,
	"2.16.840.1.101.3.4.2.1": crypto.SHA256,
	"2.16.840.1.101.3.4.2.2": crypto.SHA384,
	"2.16.840.1.101.3.4.2.3": crypto.SHA512,
}

// maxOCSPRequests bounds the certificates one request may ask about.
const maxOCSPRequests = 16

var errMalformed = errors.New("malformed OCSP request")

// parseOCSPRequest decodes a DER OCSP request and returns its single
// requests and its nonce extension, if any. A nonce of more than 32 octets
// is refused, as RFC 8954 asks.
func parseOCSPRequest(der []byte) ([]singleRequest, *pkix.Extension, error) {
	var req ocspRequest
	rest, err := asn1.Unmarshal(der, &req)
	if err != nil || len(rest) > 0 {
		return nil, nil, errMalformed
	}
	n := len(req.TBSRequest.RequestList)
	if n == 0 || n > maxOCSPRequests {
		return nil, nil, errMalformed
	}
	for _, ext := range req.TBSRequest.Extensions {
		if !ext.Id.Equal(oidOCSPNonce) {
			continue
		}
		nonce := ext.Value
		var inner []byte
		if rest, err := asn1.Unmarshal(ext.Value, &inner); err == nil && len(rest) == 0 {
			nonce = inner
		}
		if len(nonce) < 1 || len(nonce) > 32 {
			return nil, nil, errMalformed
		}
		return req.TBSRequest.RequestList, &pkix.Extension{Id: oidOCSPNonce, Value: ext.Value}, nil
	}
	return req.TBSRequest.RequestList, nil, nil
}

// statusOnly is an OCSP response with an error status and no body.
func statusOnly(status int) []byte {
	der, _ := asn1.Marshal(ocspResponse{Status: asn1.Enumerated(status)})
	return der
}
