package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"slices"
	"time"

	"github.com/lanyard-id/lanyard"
)

// now is the clock of the signingTime attribute; tests replace it.
var now = time.Now

// SignDetached signs content and returns a detached CMS SignedData in DER:
// the content itself is not included, so a verifier needs both files, as
// with `openssl cms -verify -binary -content F`.
//
// The content is hashed as it is, byte for byte, with SHA-256. The
// signature covers the signed attributes contentType (id-data),
// messageDigest and signingTime. Keys may be ECDSA on P-256 or P-384, or
// RSA, which signs with PKCS #1 v1.5. key must belong to cert.
//
// The message carries cert and every certificate in chain, in the order a
// DER SET requires. Callers usually pass the issuing CA and may leave out
// the root: a relying party has to hold the root as its trust anchor
// anyway, and a root in the message is neither needed nor harmful.
func SignDetached(content []byte, cert *x509.Certificate, chain []*x509.Certificate, key crypto.Signer) ([]byte, error) {
	if cert == nil || key == nil {
		return nil, lanyard.Errorf(lanyard.EINVALID, "A signing certificate and its key are required.")
	}
	sigAlg, err := signatureAlgorithm(key.Public())
	if err != nil {
		return nil, err
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The signing key does not belong to the signing certificate.")
	}

	digest := sha256.Sum256(content)
	attrs, err := signedAttributes(digest[:], now())
	if err != nil {
		return nil, err
	}
	// The signature covers the attributes encoded as a SET OF (tag 0x31),
	// though they are stored with the implicit [0] tag.
	attrsDigest := sha256.Sum256(encodeElement([]byte{0x31}, attrs))
	signature, err := key.Sign(rand.Reader, attrsDigest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("sign attributes: %w", err)
	}

	sha256Alg := pkix.AlgorithmIdentifier{Algorithm: oidSHA256}
	sd := signedData{
		Version:          1,
		DigestAlgorithms: []pkix.AlgorithmIdentifier{sha256Alg},
		EncapContentInfo: encapsulatedContentInfo{EContentType: oidData},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: certificateSet(cert, chain)},
		SignerInfos: []signerInfo{{
			Version:            1,
			SID:                issuerAndSerialNumber{Issuer: asn1.RawValue{FullBytes: cert.RawIssuer}, SerialNumber: cert.SerialNumber},
			DigestAlgorithm:    sha256Alg,
			SignedAttrs:        asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: attrs},
			SignatureAlgorithm: sigAlg,
			Signature:          signature,
		}},
	}
	inner, err := asn1.Marshal(sd)
	if err != nil {
		return nil, fmt.Errorf("encode signed data: %w", err)
	}
	return asn1.Marshal(contentInfo{
		ContentType: oidSignedData,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner},
	})
}

// signatureAlgorithm returns the CMS signature algorithm for a public key.
// RSA uses rsaEncryption, as OpenSSL and most S/MIME clients write it.
func signatureAlgorithm(pub crypto.PublicKey) (pkix.AlgorithmIdentifier, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return pkix.AlgorithmIdentifier{}, lanyard.Errorf(lanyard.EINVALID, "Only ECDSA keys on P-256 or P-384 can sign.")
		}
		return pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA256}, nil
	case *rsa.PublicKey:
		return pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1NULL}, nil
	default:
		return pkix.AlgorithmIdentifier{}, lanyard.Errorf(lanyard.EINVALID, "The signing key type %T is not supported.", pub)
	}
}

// signedAttributes returns the content octets of the signed attributes
// SET: contentType, messageDigest and signingTime, sorted by their
// encoding as DER requires.
func signedAttributes(digest []byte, t time.Time) ([]byte, error) {
	values := []struct {
		oid asn1.ObjectIdentifier
		v   any
	}{
		{oidAttrContentType, oidData},
		{oidAttrMessageDigest, digest},
		{oidAttrSigningTime, t.UTC().Truncate(time.Second)},
	}
	var encoded [][]byte
	for _, a := range values {
		v, err := asn1.Marshal(a.v)
		if err != nil {
			return nil, fmt.Errorf("encode attribute %v: %w", a.oid, err)
		}
		b, err := asn1.Marshal(attribute{Type: a.oid, Values: []asn1.RawValue{{FullBytes: v}}})
		if err != nil {
			return nil, fmt.Errorf("encode attribute %v: %w", a.oid, err)
		}
		encoded = append(encoded, b)
	}
	slices.SortFunc(encoded, bytes.Compare)
	return bytes.Join(encoded, nil), nil
}

// certificateSet returns the content octets of the certificates SET:
// cert and chain without duplicates, sorted by their encoding.
func certificateSet(cert *x509.Certificate, chain []*x509.Certificate) []byte {
	all := [][]byte{cert.Raw}
	for _, c := range chain {
		if c != nil && !slices.ContainsFunc(all, func(b []byte) bool { return bytes.Equal(b, c.Raw) }) {
			all = append(all, c.Raw)
		}
	}
	slices.SortFunc(all, bytes.Compare)
	return bytes.Join(all, nil)
}
