package pki

import (
	"encoding/asn1"
	"errors"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The DER of the OCSP responses the responder signs (RFC 6960 §4.2.1) is
// written here by hand, as certificates and CRLs are (certder.go,
// crlder.go): encoding/asn1's reflection took about a third of the time a
// response took to sign. It writes the responder's own values, which are
// the same bytes asn1.Marshal makes of them (the tests compare the two):
// version 1, raw values with their DER (the CertID as the request had it,
// the responder's ID), times in UTC to the second, extensions only when
// there are any (the nonce), and one status of each single response.

var errNoDER = errors.New("OCSP: a raw value without its DER")

// encodeResponseData writes
//
//	ResponseData ::= SEQUENCE {
//	    version [0] EXPLICIT Version DEFAULT v1, responderID ResponderID,
//	    producedAt GeneralizedTime, responses SEQUENCE OF SingleResponse,
//	    responseExtensions [1] EXPLICIT Extensions OPTIONAL }
func encodeResponseData(d *responseData) ([]byte, error) {
	b := cryptobyte.NewBuilder(make([]byte, 0, 128+160*len(d.Responses)))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addDER(b, d.ResponderID)
		addGeneralizedTime(b, d.ProducedAt)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for i := range d.Responses {
				addSingleResponse(b, &d.Responses[i])
			}
		})
		if len(d.Extensions) > 0 {
			b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, e := range d.Extensions {
						addExtension(b, e.Id, e.Critical, func(b *cryptobyte.Builder) { b.AddBytes(e.Value) })
					}
				})
			})
		}
	})
	return b.Bytes()
}

// addSingleResponse writes
//
//	SingleResponse ::= SEQUENCE {
//	    certID CertID, certStatus CertStatus, thisUpdate GeneralizedTime,
//	    nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, ... }
//	CertStatus ::= CHOICE { good [0] IMPLICIT NULL,
//	    revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL }
//	RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime,
//	    revocationReason [0] EXPLICIT CRLReason OPTIONAL }
//
// The reason unspecified (0) is left out, as DER leaves out a default.
func addSingleResponse(b *cryptobyte.Builder, s *singleResponse) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addDER(b, s.CertID)
		switch {
		case bool(s.Good):
			b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(*cryptobyte.Builder) {})
		case !s.Revoked.RevocationTime.IsZero():
			b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				addGeneralizedTime(b, s.Revoked.RevocationTime)
				if s.Revoked.Reason != 0 {
					b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddASN1Enum(int64(s.Revoked.Reason)) })
				}
			})
		default:
			b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(*cryptobyte.Builder) {})
		}
		addGeneralizedTime(b, s.ThisUpdate)
		if !s.NextUpdate.IsZero() {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { addGeneralizedTime(b, s.NextUpdate) })
		}
	})
}

// encodeOCSPResponse writes the successful response around tbs, the DER
// of a ResponseData, and signed, its signatureAlgorithm and signature
// (signing.sign):
//
//	OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED,
//	    responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
//	ResponseBytes ::= SEQUENCE { responseType OBJECT IDENTIFIER,
//	    response OCTET STRING }
//	BasicOCSPResponse ::= SEQUENCE {
//	    tbsResponseData ResponseData, signatureAlgorithm AlgorithmIdentifier,
//	    signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
//
// without certs: the issuing CA signs, and the client has its certificate.
func encodeOCSPResponse(tbs, signed []byte) ([]byte, error) {
	b := cryptobyte.NewBuilder(make([]byte, 0, len(tbs)+len(signed)+32))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Enum(ocspSuccessful)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidOCSPBasic)
				b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddBytes(tbs)
						b.AddBytes(signed)
					})
				})
			})
		})
	})
	return b.Bytes()
}

// addDER writes a raw value's DER.
func addDER(b *cryptobyte.Builder, v asn1.RawValue) {
	if len(v.FullBytes) == 0 {
		b.SetError(errNoDER)
		return
	}
	b.AddBytes(v.FullBytes)
}

// addGeneralizedTime writes t as a GeneralizedTime in UTC to the second.
func addGeneralizedTime(b *cryptobyte.Builder, t time.Time) {
	b.AddASN1GeneralizedTime(t.UTC().Truncate(time.Second))
}
