package pki

import (
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
	oidCRLNumber        = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidIssuingDistPoint = asn1.ObjectIdentifier{2, 5, 29, 28}
)

// crlBuilder writes one CRL: the entries are added as they are read, then
// finish signs it.
type crlBuilder struct {
	// entries holds crlHeadroom octets, then the revokedCertificates'
	// contents (DER): the headers before the entries are written into the
	// room, and the rest after them, so that a CRL of many megabytes is
	// never copied whole.
	entries []byte
	count   int
	serial  []byte // scratch for one serial's octets
}

// crlHeadroom is the room before the entries for what precedes them: the
// CRL's and TBSCertList's headers, the version, algorithm, issuer name
// and times, and the entries' header. An issuer name longer than it
// leaves makes finish copy the CRL once.
const crlHeadroom = 512

func newCRLBuilder(sizeHint int) *crlBuilder {
	return &crlBuilder{entries: make([]byte, crlHeadroom, crlHeadroom+sizeHint)}
}

// maxSerialOctets bounds a serial (RFC 5280 §4.1.2.2: 20 octets; Lanyard's
// own have 16, ParseSerial accepts 32), which keeps every entry shorter
// than 128 octets, so that its lengths take one octet each.
const maxSerialOctets = 33

// reasonExtension is the crlEntryExtensions of an entry with a reason,
// up to the reason's value, which follows.
var reasonExtension = []byte{
	0x30, 0x0c, // Extensions
	0x30, 0x0a, // Extension
	0x06, 0x03, 0x55, 0x1d, 0x15, // id-ce-cRLReasons
	0x04, 0x03, 0x0a, 0x01, // OCTET STRING { ENUMERATED
}

// add appends the entry of a revoked certificate, its serial in the stored
// form (lower-case hexadecimal). Reason unspecified (0) is left out, as
// RFC 5280 §5.3.1 asks. An entry is short and always the same shape, so
// its bytes are written directly: this runs once per revocation listed.
func (cb *crlBuilder) add(serial []byte, revokedAt time.Time, reason lanyard.RevocationReason) error {
	octets, err := cb.serialOctets(serial)
	if err != nil {
		return err
	}
	t := revokedAt.UTC()
	timeLen := 13 // UTCTime YYMMDDHHMMSSZ
	if t.Year() < 1950 || t.Year() >= 2050 {
		timeLen = 15 // GeneralizedTime YYYYMMDDHHMMSSZ
	}
	n := 2 + len(octets) + 2 + timeLen
	if reason != 0 {
		n += len(reasonExtension) + 1
	}
	b := append(cb.entries, 0x30, byte(n), 0x02, byte(len(octets)))
	b = append(b, octets...)
	b = appendTime(b, t, timeLen)
	if reason != 0 {
		b = append(b, reasonExtension...)
		b = append(b, byte(reason))
	}
	cb.entries = b
	cb.count++
	return nil
}

// serialOctets returns the contents of a serial's DER INTEGER: its octets
// without leading zeros, with one zero first if the top bit is set, so
// that it stays positive.
func (cb *crlBuilder) serialOctets(serial []byte) ([]byte, error) {
	odd := len(serial) % 2
	n := (len(serial) + 1) / 2
	if n == 0 || n > maxSerialOctets {
		return nil, fmt.Errorf("CRL entry: the serial %q is not one a CRL can list", serial)
	}
	if cap(cb.serial) < n+1 {
		cb.serial = make([]byte, n+1)
	}
	octets := cb.serial[1 : n+1]
	if odd == 1 { // the first octet from one digit
		v, err := hex.DecodeString("0" + string(serial[:1]))
		if err != nil {
			return nil, fmt.Errorf("CRL entry: the serial %q is not hexadecimal", serial)
		}
		octets[0] = v[0]
	}
	if _, err := hex.Decode(octets[odd:], serial[odd:]); err != nil {
		return nil, fmt.Errorf("CRL entry: the serial %q is not hexadecimal", serial)
	}
	for len(octets) > 1 && octets[0] == 0 && octets[1]&0x80 == 0 {
		octets = octets[1:]
	}
	if octets[0]&0x80 != 0 {
		octets = cb.serial[:n+1]
		octets[0] = 0
	}
	return octets, nil
}

// appendTime appends a UTCTime (timeLen 13) or GeneralizedTime (15) of t,
// which is in UTC.
func appendTime(b []byte, t time.Time, timeLen int) []byte {
	year := t.Year()
	if timeLen == 13 {
		b = append(b, byte(cbasn1.UTCTime), 13)
		b = appendDigits(b, year%100)
	} else {
		b = append(b, byte(cbasn1.GeneralizedTime), 15)
		b = appendDigits(b, year/100)
		b = appendDigits(b, year%100)
	}
	b = appendDigits(b, int(t.Month()))
	b = appendDigits(b, t.Day())
	b = appendDigits(b, t.Hour())
	b = appendDigits(b, t.Minute())
	b = appendDigits(b, t.Second())
	return append(b, 'Z')
}

func appendDigits(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

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
	sig, err := signingFor(ca.signer.Public())
	if err != nil {
		return nil, err
	}
	// TBSCertList ::= SEQUENCE { version, signature, issuer, thisUpdate,
	// nextUpdate, revokedCertificates SEQUENCE OF … OPTIONAL,
	// crlExtensions [0] EXPLICIT Extensions }
	head := cryptobyte.NewBuilder(nil)
	head.AddASN1Int64(1) // v2
	sig.addAlgorithm(head)
	head.AddBytes(ca.issuer.RawSubject)
	addTime(head, f.thisUpdate)
	addTime(head, f.nextUpdate)
	prefix, err := head.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode CRL: %w", err)
	}
	exts := cryptobyte.NewBuilder(nil)
	exts.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addExtension(b, oidAuthorityKeyID, false, func(b *cryptobyte.Builder) { addAuthorityKeyID(b, ca.issuer.SubjectKeyId) })
			addExtension(b, oidCRLNumber, false, func(b *cryptobyte.Builder) { b.AddASN1Int64(f.number) })
			if f.idp != "" {
				addExtension(b, oidIssuingDistPoint, true, func(b *cryptobyte.Builder) { addIssuingDistributionPoint(b, f.idp) })
			}
		})
	})
	suffix, err := exts.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode CRL: %w", err)
	}

	buf := cb.entries
	entriesLen := len(buf) - crlHeadroom
	var entriesHeader []byte
	if cb.count > 0 {
		entriesHeader = derHeader(0x30, entriesLen)
	}
	tbsHeader := derHeader(0x30, len(prefix)+len(entriesHeader)+entriesLen+len(suffix))
	before := len(tbsHeader) + len(prefix) + len(entriesHeader)
	start := crlHeadroom - before
	if start < 8 { // no room left for the CRL's own header: copy once
		grown := make([]byte, before+8, before+8+entriesLen+len(suffix)+256)
		buf, start = append(grown, buf[crlHeadroom:]...), 8
	} else {
		buf = buf[:crlHeadroom+entriesLen]
	}
	at := start
	at += copy(buf[at:], tbsHeader)
	at += copy(buf[at:], prefix)
	copy(buf[at:], entriesHeader)
	buf = append(buf, suffix...)
	tbsEnd := len(buf)

	// CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm,
	// signatureValue BIT STRING }
	sigPart, err := sig.sign(ca.signer, buf[start:tbsEnd])
	if err != nil {
		return nil, fmt.Errorf("sign CRL: %w", err)
	}
	buf = append(buf, sigPart...)
	outer := derHeader(0x30, len(buf)-start)
	start -= len(outer)
	copy(buf[start:], outer)
	return buf[start:], nil
}

// addIssuingDistributionPoint writes the extension's value (RFC 5280
// §5.2.5), whose module tags implicitly:
//
//	IssuingDistributionPoint ::= SEQUENCE {
//	    distributionPoint     [0] DistributionPointName OPTIONAL,
//	    onlyContainsUserCerts [1] BOOLEAN DEFAULT FALSE, ... }
func addIssuingDistributionPoint(b *cryptobyte.Builder, uri string) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addDistributionPointName(b, uri)
		b.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddUint8(0xff) })
	})
}
