package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/lanyard-id/lanyard"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The DER of a CRL (RFC 5280 §5.1) is written here, entry by entry as the
// revocations are read, rather than by x509.CreateRevocationList, which
// builds a big.Int and a reflected structure for every entry: with 100,000
// entries it took over a second and three million allocations, where
// writing the bytes straight into one buffer takes a small part of that.
// x509.ParseRevocationList and openssl read the result; the tests compare
// it with what CreateRevocationList makes of the same list.

var (
	oidAuthorityKeyID     = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCRLNumber          = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidReasonCode         = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidIssuingDistPoint   = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidECDSAWithSHA256    = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384    = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512    = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidSHA256WithRSA      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	reasonExtensionPrefix = mustMarshal(oidReasonCode)
)

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// crlSigning is how the issuing CA's key signs: the AlgorithmIdentifier in
// the CRL and the hash, as x509 chooses them for the key.
type crlSigning struct {
	oid        asn1.ObjectIdentifier
	nullParams bool
	hash       crypto.Hash
}

func signingFor(pub crypto.PublicKey) (crlSigning, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return crlSigning{oid: oidECDSAWithSHA256, hash: crypto.SHA256}, nil
		case elliptic.P384():
			return crlSigning{oid: oidECDSAWithSHA384, hash: crypto.SHA384}, nil
		case elliptic.P521():
			return crlSigning{oid: oidECDSAWithSHA512, hash: crypto.SHA512}, nil
		}
	case *rsa.PublicKey:
		return crlSigning{oid: oidSHA256WithRSA, nullParams: true, hash: crypto.SHA256}, nil
	}
	return crlSigning{}, fmt.Errorf("no CRL signature algorithm for a %T issuing key", pub)
}

func (s crlSigning) addAlgorithm(b *cryptobyte.Builder) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(s.oid)
		if s.nullParams {
			b.AddASN1NULL()
		}
	})
}

// crlBuilder writes one CRL: the entries are added as they are read, then
// finish signs it.
type crlBuilder struct {
	entries *cryptobyte.Builder
	count   int
	serial  []byte // scratch for one serial's octets
}

func newCRLBuilder(sizeHint int) *crlBuilder {
	return &crlBuilder{entries: cryptobyte.NewBuilder(make([]byte, 0, sizeHint))}
}

// add appends the entry of a revoked certificate, its serial in the stored
// form (lower-case hexadecimal). Reason unspecified (0) is left out, as
// RFC 5280 §5.3.1 asks.
func (cb *crlBuilder) add(serial string, revokedAt time.Time, reason lanyard.RevocationReason) error {
	if len(serial)%2 == 1 {
		serial = "0" + serial
	}
	n := len(serial) / 2
	if cap(cb.serial) < n+1 {
		cb.serial = make([]byte, n+1)
	}
	octets := cb.serial[1 : n+1]
	if _, err := hex.Decode(octets, []byte(serial)); err != nil || n == 0 {
		return fmt.Errorf("CRL entry: the serial %q is not hexadecimal", serial)
	}
	for len(octets) > 1 && octets[0] == 0 && octets[1]&0x80 == 0 {
		octets = octets[1:]
	}
	if octets[0]&0x80 != 0 { // positive INTEGER: a leading zero octet
		octets = cb.serial[:n+1]
		octets[0] = 0
	}
	cb.entries.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(octets) })
		addTime(b, revokedAt)
		if reason != 0 {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddBytes(reasonExtensionPrefix)
					b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.ENUM, func(b *cryptobyte.Builder) { b.AddUint8(uint8(reason)) })
					})
				})
			})
		}
	})
	cb.count++
	return nil
}

// crlFields are what a CRL says besides its entries.
type crlFields struct {
	number     int64
	thisUpdate time.Time
	nextUpdate time.Time
	// idp is the shard's address for its Issuing Distribution Point, or
	// empty for the complete CRL, which has none.
	idp string
}

// finish signs the CRL with the issuing CA's key.
func (cb *crlBuilder) finish(ca *CA, f crlFields) ([]byte, error) {
	entries, err := cb.entries.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode CRL entries: %w", err)
	}
	sig, err := signingFor(ca.signer.Public())
	if err != nil {
		return nil, err
	}
	tbs := cryptobyte.NewBuilder(make([]byte, 0, len(entries)+1024))
	tbs.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1) // v2
		sig.addAlgorithm(b)
		b.AddBytes(ca.issuer.RawSubject)
		addTime(b, f.thisUpdate)
		addTime(b, f.nextUpdate)
		if cb.count > 0 {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(entries) })
		}
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				addExtension(b, oidAuthorityKeyID, false, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(ca.issuer.SubjectKeyId) })
					})
				})
				addExtension(b, oidCRLNumber, false, func(b *cryptobyte.Builder) { b.AddASN1Int64(f.number) })
				if f.idp != "" {
					addExtension(b, oidIssuingDistPoint, true, func(b *cryptobyte.Builder) { addIssuingDistributionPoint(b, f.idp) })
				}
			})
		})
	})
	tbsDER, err := tbs.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode CRL: %w", err)
	}
	h := sig.hash.New()
	h.Write(tbsDER)
	signature, err := ca.signer.Sign(rand.Reader, h.Sum(nil), sig.hash)
	if err != nil {
		return nil, fmt.Errorf("sign CRL: %w", err)
	}
	out := cryptobyte.NewBuilder(make([]byte, 0, len(tbsDER)+len(signature)+64))
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbsDER)
		sig.addAlgorithm(b)
		b.AddASN1BitString(signature)
	})
	return out.Bytes()
}

// addIssuingDistributionPoint writes the extension's value (RFC 5280
// §5.2.5), whose module tags implicitly:
//
//	IssuingDistributionPoint ::= SEQUENCE {
//	    distributionPoint     [0] DistributionPointName OPTIONAL,
//	    onlyContainsUserCerts [1] BOOLEAN DEFAULT FALSE, ... }
//	DistributionPointName ::= CHOICE { fullName [0] GeneralNames, ... }
//
// A tag on a CHOICE is explicit, so distributionPoint is [0] around
// fullName's [0] (GeneralNames, whose one GeneralName is the URI, [6]).
func addIssuingDistributionPoint(b *cryptobyte.Builder, uri string) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(uri)) })
			})
		})
		b.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddUint8(0xff) })
	})
}

// addExtension writes an Extension whose extnValue value writes.
func addExtension(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, critical bool, value func(*cryptobyte.Builder)) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if critical {
			b.AddASN1Boolean(true)
		}
		b.AddASN1(cbasn1.OCTET_STRING, value)
	})
}

// addTime writes a Time as RFC 5280 §4.1.2.5 asks: UTCTime through 2049,
// GeneralizedTime from 2050, in UTC to the second.
func addTime(b *cryptobyte.Builder, t time.Time) {
	t = t.UTC().Truncate(time.Second)
	if t.Year() >= 1950 && t.Year() < 2050 {
		b.AddASN1UTCTime(t)
		return
	}
	b.AddASN1GeneralizedTime(t)
}
