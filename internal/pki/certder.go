package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/lanyard-id/lanyard"
)

// The DER of an end-entity certificate (RFC 5280 §4.1) is written here
// rather than by x509.CreateCertificate, which verifies every signature it
// makes: with an ECDSA issuing key, whose verification costs about twice
// as much as its signature, that was two thirds of the time a certificate
// took (P-256: about 240 µs a certificate then, 70 µs now). The encoder
// writes the fields (*CA).template sets, and only those, exactly as
// CreateCertificate writes them, so that the certificates are the same
// bytes but for the signature; the tests compare the two for every kind of
// issuing key and usage. Whether a signature is verified is sign's choice
// (der.go). CA certificates are still made by CreateCertificate
// (create.go).

var (
	oidCommonName          = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSubjectKeyID        = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidKeyUsage            = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidSubjectAltName      = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidBasicConstraints    = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidCRLDistPoints       = asn1.ObjectIdentifier{2, 5, 29, 31}
	oidExtKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidAuthorityInfoAccess = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}
	oidAccessOCSP          = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1}
	oidAccessCAIssuers     = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 2}
)

// extKeyUsageOIDs are the extended key usages the profiles name.
var extKeyUsageOIDs = map[x509.ExtKeyUsage]asn1.ObjectIdentifier{
	x509.ExtKeyUsageClientAuth:      {1, 3, 6, 1, 5, 5, 7, 3, 2},
	x509.ExtKeyUsageEmailProtection: {1, 3, 6, 1, 5, 5, 7, 3, 4},
}

// emptyName is the DER of a Name without attributes.
var emptyName = []byte{0x30, 0x00}

// certificateDER signs the end-entity certificate tmpl, made by template,
// for the key of its RawSubjectPublicKeyInfo with the issuing CA's key.
func (ca *CA) certificateDER(tmpl *x509.Certificate) ([]byte, error) {
	sig, err := signingFor(ca.signer.Public())
	if err != nil {
		return nil, err
	}
	tbs, err := ca.tbsCertificate(tmpl, sig)
	if err != nil {
		return nil, err
	}
	// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
	// signatureValue BIT STRING }
	sigPart, err := sig.sign(ca.signer, tbs)
	if err != nil {
		return nil, err
	}
	header := derHeader(0x30, len(tbs)+len(sigPart))
	der := make([]byte, 0, len(header)+len(tbs)+len(sigPart))
	der = append(der, header...)
	der = append(der, tbs...)
	return append(der, sigPart...), nil
}

// tbsCertificate writes the TBSCertificate of tmpl, whose key is the
// SubjectPublicKeyInfo that template put in its RawSubjectPublicKeyInfo:
//
//	TBSCertificate ::= SEQUENCE {
//	    version [0] EXPLICIT Version DEFAULT v1, serialNumber, signature,
//	    issuer, validity, subject, subjectPublicKeyInfo,
//	    extensions [3] EXPLICIT Extensions OPTIONAL }
func (ca *CA) tbsCertificate(tmpl *x509.Certificate, sig signing) ([]byte, error) {
	if tmpl.SerialNumber == nil || tmpl.SerialNumber.Sign() <= 0 {
		return nil, errors.New("the certificate serial must be positive")
	}
	spki := tmpl.RawSubjectPublicKeyInfo
	if len(spki) == 0 {
		return nil, errors.New("the certificate has no key")
	}
	subject, err := commonNameDER(tmpl.Subject.CommonName)
	if err != nil {
		return nil, err
	}
	exts, err := ca.extensions(tmpl, subject)
	if err != nil {
		return nil, err
	}
	b := cryptobyte.NewBuilder(make([]byte, 0, 1024))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddASN1Int64(2) }) // v3
		b.AddASN1BigInt(tmpl.SerialNumber)
		sig.addAlgorithm(b)
		b.AddBytes(ca.issuer.RawSubject)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addTime(b, tmpl.NotBefore)
			addTime(b, tmpl.NotAfter)
		})
		b.AddBytes(subject)
		b.AddBytes(spki)
		b.AddASN1(cbasn1.Tag(3).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, exts)
		})
	})
	tbs, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode certificate: %w", err)
	}
	return tbs, nil
}

// extensions returns the writer of tmpl's extensions, in the order and
// with the criticality x509's buildCertExtensions gives them, which
// relying parties and the tests see: key usage, extended key usage, basic
// constraints, subject and authority key identifiers, authority
// information access, subject alternative names, CRL distribution points.
// What cannot be encoded is refused here, before anything is written.
func (ca *CA) extensions(tmpl *x509.Certificate, subject []byte) (func(*cryptobyte.Builder), error) {
	ekus, err := extKeyUsages(tmpl.ExtKeyUsage)
	if err != nil {
		return nil, err
	}
	for _, email := range tmpl.EmailAddresses {
		// ASCII only, as x509 refuses others.
		if !lanyard.CertifiableEmail(email) {
			return nil, fmt.Errorf("%q cannot be encoded as an IA5String", email)
		}
	}
	// As x509 does, the authority key identifier is the issuer's subject
	// key identifier unless the certificate would name itself its issuer.
	var authorityKeyID []byte
	if !bytes.Equal(ca.issuer.RawSubject, subject) {
		authorityKeyID = ca.issuer.SubjectKeyId
	}
	return func(b *cryptobyte.Builder) {
		if tmpl.KeyUsage != 0 {
			addExtension(b, oidKeyUsage, true, func(b *cryptobyte.Builder) { addKeyUsage(b, tmpl.KeyUsage) })
		}
		if len(ekus) > 0 {
			addExtension(b, oidExtKeyUsage, false, func(b *cryptobyte.Builder) { addOIDs(b, ekus) })
		}
		if tmpl.BasicConstraintsValid {
			// cA FALSE and no pathLenConstraint, both defaults, so left out.
			addExtension(b, oidBasicConstraints, true, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(*cryptobyte.Builder) {})
			})
		}
		if len(tmpl.SubjectKeyId) > 0 {
			addExtension(b, oidSubjectKeyID, false, func(b *cryptobyte.Builder) { b.AddASN1OctetString(tmpl.SubjectKeyId) })
		}
		if len(authorityKeyID) > 0 {
			addExtension(b, oidAuthorityKeyID, false, func(b *cryptobyte.Builder) { addAuthorityKeyID(b, authorityKeyID) })
		}
		if len(tmpl.OCSPServer) > 0 || len(tmpl.IssuingCertificateURL) > 0 {
			addExtension(b, oidAuthorityInfoAccess, false, func(b *cryptobyte.Builder) {
				addAuthorityInfoAccess(b, tmpl.OCSPServer, tmpl.IssuingCertificateURL)
			})
		}
		if len(tmpl.EmailAddresses) > 0 {
			// RFC 5280 §4.2.1.6: critical when the subject is empty.
			addExtension(b, oidSubjectAltName, bytes.Equal(subject, emptyName), func(b *cryptobyte.Builder) {
				addEmailNames(b, tmpl.EmailAddresses)
			})
		}
		if len(tmpl.CRLDistributionPoints) > 0 {
			addExtension(b, oidCRLDistPoints, false, func(b *cryptobyte.Builder) { addCRLDistributionPoints(b, tmpl.CRLDistributionPoints) })
		}
	}, nil
}

// commonNameDER returns the DER of a Name of the one attribute CN, whose
// value is a PrintableString when its characters allow, else a
// UTF8String, as encoding/asn1 chooses for x509: '*' and '&', which some
// parsers accept in a PrintableString, make it a UTF8String. An empty
// common name is an empty Name, as x509 writes it.
func commonNameDER(cn string) ([]byte, error) {
	if cn == "" {
		return emptyName, nil
	}
	tag := cbasn1.PrintableString
	if !isPrintableString(cn) {
		if !utf8.ValidString(cn) {
			return nil, fmt.Errorf("the common name %q is not valid UTF-8", cn)
		}
		tag = cbasn1.UTF8String
	}
	// Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF
	// AttributeTypeAndValue ::= SEQUENCE { type, value })
	b := cryptobyte.NewBuilder(make([]byte, 0, len(cn)+16))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidCommonName)
				b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(cn)) })
			})
		})
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode the subject: %w", err)
	}
	return der, nil
}

// isPrintableString reports whether s has only the characters of a
// PrintableString (X.680 §41.4).
func isPrintableString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == ' ', c == '\'', c == '(', c == ')', c == '+', c == ',', c == '-', c == '.', c == '/', c == ':', c == '=', c == '?':
		default:
			return false
		}
	}
	return true
}

func extKeyUsages(usages []x509.ExtKeyUsage) ([]asn1.ObjectIdentifier, error) {
	oids := make([]asn1.ObjectIdentifier, len(usages))
	for i, u := range usages {
		oid, ok := extKeyUsageOIDs[u]
		if !ok {
			return nil, fmt.Errorf("the extended key usage %d is not one the certificate profiles use", u)
		}
		oids[i] = oid
	}
	return oids, nil
}

// addKeyUsage writes the KeyUsage BIT STRING, whose bit 0
// (digitalSignature) is the first, the most significant, with the
// trailing zero bits left out, as DER asks of a named bit list.
func addKeyUsage(b *cryptobyte.Builder, ku x509.KeyUsage) {
	octets := []byte{bits.Reverse8(byte(ku)), bits.Reverse8(byte(ku >> 8))}
	if octets[1] == 0 {
		octets = octets[:1]
	}
	unused := byte(bits.TrailingZeros8(octets[len(octets)-1]))
	b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
		b.AddUint8(unused)
		b.AddBytes(octets)
	})
}

func addOIDs(b *cryptobyte.Builder, oids []asn1.ObjectIdentifier) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, oid := range oids {
			b.AddASN1ObjectIdentifier(oid)
		}
	})
}

// addAuthorityInfoAccess writes the extension's value (RFC 5280 §4.2.2.1):
// the OCSP responders first, then the issuer certificates, each an
// AccessDescription ::= SEQUENCE { accessMethod, accessLocation
// GeneralName }, the URI [6].
func addAuthorityInfoAccess(b *cryptobyte.Builder, ocsp, caIssuers []string) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, uri := range ocsp {
			addAccessDescription(b, oidAccessOCSP, uri)
		}
		for _, uri := range caIssuers {
			addAccessDescription(b, oidAccessCAIssuers, uri)
		}
	})
}

func addAccessDescription(b *cryptobyte.Builder, method asn1.ObjectIdentifier, uri string) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(method)
		b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(uri)) })
	})
}

// addEmailNames writes GeneralNames of rfc822Names, [1] IMPLICIT
// IA5String, ASCII only, which extensions checked (lanyard.CertifiableEmail).
func addEmailNames(b *cryptobyte.Builder, emails []string) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, email := range emails {
			b.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(email)) })
		}
	})
}

// addCRLDistributionPoints writes the extension's value (RFC 5280
// §4.2.1.13), a DistributionPoint with only its distributionPoint for
// each URI.
func addCRLDistributionPoints(b *cryptobyte.Builder, uris []string) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, uri := range uris {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { addDistributionPointName(b, uri) })
		}
	})
}
