package pki

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The DER of the OCSP responses the responder signs (RFC 6960 §4.2.1) is
// written here by hand, as certificates and CRLs are (certder.go,
// crlder.go): encoding/asn1's reflection took about a third of the time a
// response took to sign. The encoders write the structs of ocsp.go exactly
// as asn1.Marshal writes them, with its rules for optional fields, raw
// values and times, so that a response is the same bytes either way; the
// tests compare the two.

var errGeneralizedTime = errors.New("asn1: structure error: cannot represent time as GeneralizedTime")

// encodeResponseData writes
//
//	ResponseData ::= SEQUENCE {
//	    version [0] EXPLICIT Version DEFAULT v1, responderID ResponderID,
//	    producedAt GeneralizedTime, responses SEQUENCE OF SingleResponse,
//	    responseExtensions [1] EXPLICIT Extensions OPTIONAL }
func encodeResponseData(d *responseData) ([]byte, error) {
	b := cryptobyte.NewBuilder(make([]byte, 0, 128+160*len(d.Responses)))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if d.Version != 0 {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddASN1Int64(int64(d.Version)) })
		}
		addRawValue(b, d.ResponderID)
		addGeneralizedTime(b, d.ProducedAt)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for i := range d.Responses {
				addSingleResponse(b, &d.Responses[i])
			}
		})
		// asn1 leaves out an optional slice only when it is nil: an
		// empty one is written, empty.
		if d.Extensions != nil {
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
// asn1 leaves out an optional field whose value is deeply equal to the
// zero value of its type, so the comparisons here are with ==, not
// IsZero: a zero time in some location other than UTC is written, and so
// is a reason of 0 (unspecified) with a revocation time; reason 0 itself
// is left out.
func addSingleResponse(b *cryptobyte.Builder, s *singleResponse) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addRawValue(b, s.CertID)
		if s.Good {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(*cryptobyte.Builder) {})
		}
		if s.Revoked != (revokedInfo{}) {
			b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				addGeneralizedTime(b, s.Revoked.RevocationTime)
				if s.Revoked.Reason != 0 {
					b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddASN1Enum(int64(s.Revoked.Reason)) })
				}
			})
		}
		if s.Unknown {
			b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(*cryptobyte.Builder) {})
		}
		addGeneralizedTime(b, s.ThisUpdate)
		if s.NextUpdate != (time.Time{}) {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { addGeneralizedTime(b, s.NextUpdate) })
		}
	})
}

// encodeBasicResponse writes
//
//	BasicOCSPResponse ::= SEQUENCE {
//	    tbsResponseData ResponseData, signatureAlgorithm AlgorithmIdentifier,
//	    signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
//
// without certs: the issuing CA signs, and the client has its certificate.
func encodeBasicResponse(r *basicResponse) ([]byte, error) {
	b := cryptobyte.NewBuilder(make([]byte, 0, len(r.TBSResponseData.FullBytes)+len(r.Signature.Bytes)+48))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addRawValue(b, r.TBSResponseData)
		addAlgorithmIdentifier(b, r.SignatureAlgorithm)
		b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
			b.AddUint8(byte((8 - r.Signature.BitLength%8) % 8))
			b.AddBytes(r.Signature.Bytes)
		})
	})
	return b.Bytes()
}

// encodeOCSPResponse writes
//
//	OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED,
//	    responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
//	ResponseBytes ::= SEQUENCE { responseType OBJECT IDENTIFIER,
//	    response OCTET STRING }
func encodeOCSPResponse(r *ocspResponse) ([]byte, error) {
	b := cryptobyte.NewBuilder(make([]byte, 0, len(r.Bytes.Response)+32))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Enum(int64(r.Status))
		if r.Bytes.Type != nil || r.Bytes.Response != nil {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(r.Bytes.Type)
					b.AddASN1OctetString(r.Bytes.Response)
				})
			})
		}
	})
	return b.Bytes()
}

// addAlgorithmIdentifier writes a pkix.AlgorithmIdentifier, whose
// parameters asn1 leaves out only when they are the zero RawValue.
func addAlgorithmIdentifier(b *cryptobyte.Builder, a pkix.AlgorithmIdentifier) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(a.Algorithm)
		p := a.Parameters
		if p.Class != 0 || p.Tag != 0 || p.IsCompound || p.Bytes != nil || p.FullBytes != nil {
			addRawValue(b, p)
		}
	})
}

// addRawValue writes v as asn1 does: its FullBytes if it has any, else
// the identifier octets of its Class, Tag and IsCompound, the length and
// its Bytes.
func addRawValue(b *cryptobyte.Builder, v asn1.RawValue) {
	if len(v.FullBytes) != 0 {
		b.AddBytes(v.FullBytes)
		return
	}
	id := uint8(v.Class) << 6
	if v.IsCompound {
		id |= 0x20
	}
	if v.Tag >= 31 {
		b.AddUint8(id | 0x1f)
		addBase128(b, v.Tag)
	} else {
		b.AddUint8(id | uint8(v.Tag))
	}
	n := len(v.Bytes)
	if n < 0x80 {
		b.AddUint8(byte(n))
	} else {
		var l [8]byte
		i := len(l)
		for ; n > 0; n >>= 8 {
			i--
			l[i] = byte(n)
		}
		b.AddUint8(0x80 | byte(len(l)-i))
		b.AddBytes(l[i:])
	}
	b.AddBytes(v.Bytes)
}

// addBase128 writes n, not negative, in base 128, high digits first.
func addBase128(b *cryptobyte.Builder, n int) {
	var d [10]byte
	i := len(d) - 1
	d[i] = byte(n & 0x7f)
	for n >>= 7; n > 0; n >>= 7 {
		i--
		d[i] = 0x80 | byte(n&0x7f)
	}
	b.AddBytes(d[i:])
}

// addGeneralizedTime writes t as asn1 writes a time tagged "generalized":
// YYYYMMDDHHMMSS in t's own location, the fraction of a second dropped,
// then Z if t's offset from UTC is less than a minute, else the offset as
// +hhmm or -hhmm. The responder's times are in UTC, so theirs end in Z.
func addGeneralizedTime(b *cryptobyte.Builder, t time.Time) {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		b.SetError(errGeneralizedTime)
		return
	}
	var buf [2 + 19]byte
	d := append(buf[:0], byte(cbasn1.GeneralizedTime), 0)
	d = appendDigits(d, year/100)
	d = appendDigits(d, year%100)
	d = appendDigits(d, int(month))
	d = appendDigits(d, day)
	hour, minute, sec := t.Clock()
	d = appendDigits(d, hour)
	d = appendDigits(d, minute)
	d = appendDigits(d, sec)
	_, offset := t.Zone()
	switch m := offset / 60; {
	case m == 0:
		d = append(d, 'Z')
	case m > 0:
		d = append(d, '+')
		d = appendDigits(d, m/60%100)
		d = appendDigits(d, m%60)
	default:
		d = append(d, '-')
		d = appendDigits(d, -m/60%100)
		d = appendDigits(d, -m%60)
	}
	d[1] = byte(len(d) - 2)
	b.AddBytes(d)
}
