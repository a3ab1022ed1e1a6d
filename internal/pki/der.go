package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The parts that the issuing CA's own DER encoders of CRLs (crlder.go)
// and end-entity certificates (certder.go) share: the signature
// algorithm and the signing, extensions, times and distribution points.

var (
	oidAuthorityKeyID  = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
)

// signing is how the issuing CA's key signs: the AlgorithmIdentifier in
// the signed structure and the hash, as x509 chooses them for the key.
type signing struct {
	oid        asn1.ObjectIdentifier
	nullParams bool
	hash       crypto.Hash
	alg        x509.SignatureAlgorithm // the same, as x509 names it
	// verifyWith is the issuing key when each signature is verified
	// before it leaves the CA, which only RSA keys need (see sign).
	verifyWith *rsa.PublicKey
}

func signingFor(pub crypto.PublicKey) (signing, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return signing{oid: oidECDSAWithSHA256, hash: crypto.SHA256, alg: x509.ECDSAWithSHA256}, nil
		case elliptic.P384():
			return signing{oid: oidECDSAWithSHA384, hash: crypto.SHA384, alg: x509.ECDSAWithSHA384}, nil
		}
	case *rsa.PublicKey:
		return signing{oid: oidSHA256WithRSA, nullParams: true, hash: crypto.SHA256, alg: x509.SHA256WithRSA, verifyWith: k}, nil
	}
	return signing{}, fmt.Errorf("no signature algorithm for a %T issuing key", pub)
}

func (s signing) addAlgorithm(b *cryptobyte.Builder) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(s.oid)
		if s.nullParams {
			b.AddASN1NULL()
		}
	})
}

// sign signs tbs, the DER of a TBSCertificate, TBSCertList or
// ResponseData, with signer and returns what follows it in the signed
// structure: the signatureAlgorithm and the signatureValue BIT STRING.
//
// An RSA signature is verified before it is used. A signature computed
// with the Chinese remainder theorem that a fault gets wrong (in the
// hardware, or in a token's firmware, whose PKCS#11 signer may not check
// itself) gives away the private key to anyone holding it and the
// message, so no unverified RSA signature leaves the CA, as none leaves
// x509.CreateCertificate; an RSA verification costs a small part of the
// signing. An ECDSA signature is not verified. One faulty ECDSA
// signature does not give the key away as one faulty RSA-CRT signature
// does: it fails verification where it is used, which relying parties
// see. The faults that do endanger an ECDSA key, a repeated or biased
// nonce, make signatures that verify, which no check would catch. And an
// ECDSA verification costs about twice as much as the signature, the
// largest single cost of a certificate.
func (s signing) sign(signer crypto.Signer, tbs []byte) ([]byte, error) {
	sum := digest(s.hash, tbs)
	signature, err := signer.Sign(rand.Reader, sum, s.hash)
	if err != nil {
		return nil, err
	}
	if s.verifyWith != nil {
		if err := rsa.VerifyPKCS1v15(s.verifyWith, s.hash, sum, signature); err != nil {
			return nil, fmt.Errorf("the issuing key made a signature that does not verify: %w", err)
		}
	}
	b := cryptobyte.NewBuilder(make([]byte, 0, len(signature)+32))
	s.addAlgorithm(b)
	b.AddASN1BitString(signature)
	return b.Bytes()
}

// checkSigner signs a test message with the issuing key, as certificates
// are signed, and verifies the signature once: the ECDSA signatures of
// the certificates are not verified one by one, so a key (a token's, say)
// that signs wrongly is caught here, when the CA opens, rather than where
// its certificates are used.
func checkSigner(signer crypto.Signer, issuer *x509.Certificate) error {
	s, err := signingFor(signer.Public())
	if err != nil {
		return err
	}
	msg := []byte("Lanyard issuing key check")
	sig, err := signer.Sign(rand.Reader, digest(s.hash, msg), s.hash)
	if err != nil {
		return fmt.Errorf("sign a test message: %w", err)
	}
	if err := issuer.CheckSignature(s.alg, msg, sig); err != nil {
		return fmt.Errorf("its test signature does not verify: %w", err)
	}
	return nil
}

// derHeader returns the identifier and length octets of a DER value of n
// content octets.
func derHeader(tag byte, n int) []byte {
	if n < 0x80 {
		return []byte{tag, byte(n)}
	}
	var l []byte
	for v := n; v > 0; v >>= 8 {
		l = append([]byte{byte(v)}, l...)
	}
	return append([]byte{tag, 0x80 | byte(len(l))}, l...)
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

// addAuthorityKeyID writes the extension's value (RFC 5280 §4.2.1.1)
// with the keyIdentifier alone, [0] IMPLICIT.
func addAuthorityKeyID(b *cryptobyte.Builder, keyID []byte) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(keyID) })
	})
}

// addDistributionPointName writes a distributionPoint of one URI, as both
// a certificate's CRL distribution point and a CRL's Issuing
// Distribution Point have it. Their modules tag implicitly:
//
//	distributionPoint [0] DistributionPointName OPTIONAL
//	DistributionPointName ::= CHOICE { fullName [0] GeneralNames, ... }
//
// A tag on a CHOICE is explicit, so distributionPoint is [0] around
// fullName's [0] (GeneralNames, whose one GeneralName is the URI, [6]).
func addDistributionPointName(b *cryptobyte.Builder, uri string) {
	b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(uri)) })
		})
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
