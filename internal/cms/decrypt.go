package cms

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"

	"github.com/lanyard-id/lanyard"
)

// Recipient is a certificate a message may be encrypted to, with the
// private key that decrypts it. Key is usually an *rsa.PrivateKey.
type Recipient struct {
	Certificate *x509.Certificate
	Key         crypto.Decrypter
}

// Decrypt decrypts a CMS EnvelopedData or AuthEnvelopedData message given
// as DER or BER, as PEM (CMS or PKCS7) or as an S/MIME message, the forms
// `openssl cms -encrypt` writes with -outform DER, PEM and SMIME.
//
// The message must have a key transport recipient (RSA PKCS #1 v1.5 or
// RSA-OAEP) that names one of the recipients' certificates, by issuer and
// serial number or by subject key identifier. The content may be encrypted
// with AES-CBC, AES-GCM or Triple DES (the default of OpenSSL 3.0).
//
// Decrypt returns the decrypted content exactly as it was encrypted, like
// `openssl cms -decrypt` without -text: for a message made from text
// without -binary that is the text with CRLF line endings, and if the
// sender wrapped the text in a MIME entity (openssl -text, mail clients)
// the MIME headers are part of the result.
func Decrypt(data []byte, recipients ...Recipient) ([]byte, error) {
	der, err := unwrap(data)
	if err != nil {
		return nil, err
	}
	der, err = normalizeBER(der)
	if err != nil {
		return nil, malformed()
	}
	var ci contentInfo
	if rest, err := asn1.Unmarshal(der, &ci); err != nil || len(rest) != 0 {
		return nil, malformed()
	}
	for _, r := range recipients {
		if err := checkRecipient(r); err != nil {
			return nil, err
		}
	}
	switch {
	case ci.ContentType.Equal(oidEnvelopedData):
		var ed envelopedData
		if err := unmarshalAll(ci.Content.Bytes, &ed); err != nil {
			return nil, malformed()
		}
		cek, err := recoverKey(ed.RecipientInfos, recipients, keyLength(ed.EncryptedContentInfo))
		if err != nil {
			return nil, err
		}
		return decryptContent(ed.EncryptedContentInfo, cek, false, nil, nil)
	case ci.ContentType.Equal(oidAuthEnvelopedData):
		var ad authEnvelopedData
		if err := unmarshalAll(ci.Content.Bytes, &ad); err != nil {
			return nil, malformed()
		}
		cek, err := recoverKey(ad.RecipientInfos, recipients, keyLength(ad.AuthEncryptedContentInfo))
		if err != nil {
			return nil, err
		}
		var aad []byte
		if len(ad.AuthAttrs.FullBytes) > 0 {
			// Authenticated attributes are covered as a SET OF (tag 0x31).
			aad = encodeElement([]byte{0x31}, ad.AuthAttrs.Bytes)
		}
		return decryptContent(ad.AuthEncryptedContentInfo, cek, true, ad.MAC, aad)
	case ci.ContentType.Equal(oidSignedData):
		return nil, lanyard.Errorf(lanyard.EINVALID, "The message is signed, not encrypted.")
	default:
		return nil, lanyard.Errorf(lanyard.EINVALID, "The message is not an encrypted CMS message.")
	}
}

// checkRecipient refuses a recipient whose key does not belong to its
// certificate, which would otherwise surface as a damaged message.
func checkRecipient(r Recipient) error {
	if r.Certificate == nil || r.Key == nil {
		return lanyard.Errorf(lanyard.EINVALID, "A decryption certificate and its key are required.")
	}
	pub, ok := r.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(r.Certificate.PublicKey) {
		return lanyard.Errorf(lanyard.EINVALID, "The decryption key does not belong to certificate %q.", r.Certificate.Subject.CommonName)
	}
	return nil
}

// unmarshalAll decodes b into v and refuses trailing bytes.
func unmarshalAll(b []byte, v any) error {
	rest, err := asn1.Unmarshal(b, v)
	if err == nil && len(rest) != 0 {
		err = errors.New("trailing data")
	}
	return err
}

// malformed is the error for input that is not a well-formed message.
func malformed() error {
	return lanyard.Errorf(lanyard.EINVALID, "The message is damaged or not a CMS message.")
}
