package cms

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	_ "crypto/sha256" // registers SHA-256 for RSA-OAEP
	_ "crypto/sha512" // registers SHA-384 and SHA-512 for RSA-OAEP
	"crypto/x509"
	"encoding/asn1"

	"github.com/lanyard-id/lanyard"
)

// recoverKey finds the key transport recipient infos that name one of
// recipients and returns the first content-encryption key of keyLen bytes
// that one of them yields. keyLen 0 accepts any length.
func recoverKey(infos []asn1.RawValue, recipients []Recipient, keyLen int) ([]byte, error) {
	matched := false
	for _, info := range infos {
		if info.Class != asn1.ClassUniversal || info.Tag != asn1.TagSequence {
			continue // key agreement, KEK, password and other recipients
		}
		var ktri keyTransRecipientInfo
		if err := unmarshalAll(info.FullBytes, &ktri); err != nil {
			return nil, malformed()
		}
		for _, r := range recipients {
			if !identifies(ktri.RID, r.Certificate) {
				continue
			}
			matched = true
			opts, err := keyEncryptionOptions(ktri.KeyEncryptionAlgorithm.Algorithm, ktri.KeyEncryptionAlgorithm.Parameters.FullBytes)
			if err != nil {
				return nil, err
			}
			cek, err := r.Key.Decrypt(rand.Reader, ktri.EncryptedKey, opts)
			if err == nil && (keyLen == 0 || len(cek) == keyLen) {
				return cek, nil
			}
		}
	}
	if !matched {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "The message is not encrypted to any of the available certificates.")
	}
	return nil, lanyard.Errorf(lanyard.EINVALID, "The message could not be decrypted: its key does not open with the certificate's private key.")
}

// identifies reports whether a recipient identifier names cert, either by
// issuer and serial number or by subject key identifier.
func identifies(rid asn1.RawValue, cert *x509.Certificate) bool {
	switch {
	case rid.Class == asn1.ClassUniversal && rid.Tag == asn1.TagSequence:
		var ias issuerAndSerialNumber
		if unmarshalAll(rid.FullBytes, &ias) != nil || ias.SerialNumber == nil {
			return false
		}
		return bytes.Equal(ias.Issuer.FullBytes, cert.RawIssuer) && ias.SerialNumber.Cmp(cert.SerialNumber) == 0
	case rid.Class == asn1.ClassContextSpecific && rid.Tag == 0 && !rid.IsCompound:
		return len(rid.Bytes) > 0 && bytes.Equal(rid.Bytes, subjectKeyID(cert))
	}
	return false
}

// subjectKeyID returns the certificate's subject key identifier, or, if it
// has none, the SHA-1 of its public key as RFC 5280 section 4.2.1.2
// suggests and OpenSSL computes.
func subjectKeyID(cert *x509.Certificate) []byte {
	if len(cert.SubjectKeyId) > 0 {
		return cert.SubjectKeyId
	}
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if unmarshalAll(cert.RawSubjectPublicKeyInfo, &spki) != nil {
		return nil
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:]
}

// keyEncryptionOptions returns the decrypter options for a key encryption
// algorithm: nil for RSA PKCS #1 v1.5, OAEP options for RSAES-OAEP.
//
// PKCS #1 v1.5 failures are reported rather than hidden behind a random
// key: the app decrypts on the user's own device, where no remote party
// observes the outcome, and a clear error beats garbage output.
func keyEncryptionOptions(alg asn1.ObjectIdentifier, params []byte) (crypto.DecrypterOpts, error) {
	if alg.Equal(oidRSAEncryption) {
		return nil, nil
	}
	if !alg.Equal(oidRSAESOAEP) {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The message's key is encrypted with an unsupported algorithm (%v).", alg)
	}
	var p rsaesOAEPParams
	if len(params) > 0 && !bytes.Equal(params, asn1NULL.FullBytes) {
		if err := unmarshalAll(params, &p); err != nil {
			return nil, malformed()
		}
	}
	opts := &rsa.OAEPOptions{Hash: crypto.SHA1, MGFHash: crypto.SHA1}
	var ok bool
	if len(p.HashFunc.Algorithm) > 0 {
		if opts.Hash, ok = hashByOID(p.HashFunc.Algorithm); !ok {
			return nil, lanyard.Errorf(lanyard.EINVALID, "The message uses an unsupported RSA-OAEP hash (%v).", p.HashFunc.Algorithm)
		}
	}
	if len(p.MaskGenFunc.Algorithm) > 0 {
		var mgfHash struct{ Algorithm asn1.ObjectIdentifier }
		if !p.MaskGenFunc.Algorithm.Equal(oidMGF1) || unmarshalAll(p.MaskGenFunc.Parameters.FullBytes, &mgfHash) != nil {
			return nil, lanyard.Errorf(lanyard.EINVALID, "The message uses an unsupported RSA-OAEP mask function.")
		}
		if opts.MGFHash, ok = hashByOID(mgfHash.Algorithm); !ok {
			return nil, lanyard.Errorf(lanyard.EINVALID, "The message uses an unsupported RSA-OAEP hash (%v).", mgfHash.Algorithm)
		}
	}
	if len(p.PSourceFunc.Algorithm) > 0 {
		if !p.PSourceFunc.Algorithm.Equal(oidPSpecified) || unmarshalAll(p.PSourceFunc.Parameters.FullBytes, &opts.Label) != nil {
			return nil, malformed()
		}
	}
	return opts, nil
}

// hashByOID maps a digest algorithm identifier to its hash function.
func hashByOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidSHA1):
		return crypto.SHA1, true
	case oid.Equal(oidSHA256):
		return crypto.SHA256, true
	case oid.Equal(oidSHA384):
		return crypto.SHA384, true
	case oid.Equal(oidSHA512):
		return crypto.SHA512, true
	}
	return 0, false
}
