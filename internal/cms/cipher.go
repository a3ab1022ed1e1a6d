package cms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"encoding/asn1"

	"github.com/lanyard-id/lanyard"
)

// contentCipher describes a content-encryption algorithm.
type contentCipher struct {
	oid    asn1.ObjectIdentifier
	keyLen int
	gcm    bool
	block  func(key []byte) (cipher.Block, error)
}

// contentCiphers are the content-encryption algorithms Decrypt reads.
// Triple DES is here because it is what OpenSSL 3.0 `cms -encrypt` uses
// when no cipher is named.
var contentCiphers = []contentCipher{
	{oidAES128CBC, 16, false, aes.NewCipher},
	{oidAES192CBC, 24, false, aes.NewCipher},
	{oidAES256CBC, 32, false, aes.NewCipher},
	{oidAES128GCM, 16, true, aes.NewCipher},
	{oidAES192GCM, 24, true, aes.NewCipher},
	{oidAES256GCM, 32, true, aes.NewCipher},
	{oidDESEDE3CBC, 24, false, des.NewTripleDESCipher},
}

// lookupCipher returns the content cipher for an algorithm identifier.
func lookupCipher(oid asn1.ObjectIdentifier) (contentCipher, bool) {
	for _, c := range contentCiphers {
		if c.oid.Equal(oid) {
			return c, true
		}
	}
	return contentCipher{}, false
}

// keyLength returns the content-encryption key length the content's
// algorithm needs, or 0 if the algorithm is unknown.
func keyLength(eci encryptedContentInfo) int {
	c, _ := lookupCipher(eci.ContentEncryptionAlgorithm.Algorithm)
	return c.keyLen
}

// decryptContent decrypts the encrypted content with the content-encryption
// key. For AuthEnvelopedData auth is true and mac and aad are its message
// authentication code and authenticated attributes.
func decryptContent(eci encryptedContentInfo, key []byte, auth bool, mac, aad []byte) ([]byte, error) {
	alg := eci.ContentEncryptionAlgorithm
	c, ok := lookupCipher(alg.Algorithm)
	if !ok || c.gcm != auth {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The message is encrypted with an unsupported algorithm (%v).", alg.Algorithm)
	}
	if len(eci.EncryptedContent.FullBytes) == 0 {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The message does not contain its encrypted content.")
	}
	ciphertext, err := octets(eci.EncryptedContent)
	if err != nil {
		return nil, malformed()
	}
	block, err := c.block(key)
	if err != nil {
		return nil, damaged()
	}
	if c.gcm {
		return openGCM(block, alg.Parameters.FullBytes, ciphertext, mac, aad)
	}
	var iv []byte
	if unmarshalAll(alg.Parameters.FullBytes, &iv) != nil || len(iv) != block.BlockSize() {
		return nil, malformed()
	}
	if len(ciphertext) == 0 || len(ciphertext)%block.BlockSize() != 0 {
		return nil, damaged()
	}
	plain := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ciphertext)
	return unpad(plain, block.BlockSize())
}

// openGCM decrypts and authenticates AES-GCM content (RFC 5084).
func openGCM(block cipher.Block, params, ciphertext, mac, aad []byte) ([]byte, error) {
	var p gcmParameters
	if unmarshalAll(params, &p) != nil || len(p.Nonce) != 12 || p.ICVLen < 12 || p.ICVLen > 16 || len(mac) != p.ICVLen {
		return nil, malformed()
	}
	aead, err := cipher.NewGCMWithTagSize(block, p.ICVLen)
	if err != nil {
		return nil, malformed()
	}
	plain, err := aead.Open(nil, p.Nonce, append(ciphertext[:len(ciphertext):len(ciphertext)], mac...), aad)
	if err != nil {
		return nil, damaged()
	}
	return plain, nil
}

// unpad removes and checks the PKCS #7 padding of CBC content.
func unpad(b []byte, blockSize int) ([]byte, error) {
	n := int(b[len(b)-1])
	if n == 0 || n > blockSize || n > len(b) {
		return nil, damaged()
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, damaged()
		}
	}
	return b[:len(b)-n], nil
}

// octets returns the content of an implicitly tagged OCTET STRING, joining
// the segments of a constructed (BER) one.
func octets(v asn1.RawValue) ([]byte, error) {
	if !v.IsCompound {
		return v.Bytes, nil
	}
	var out []byte
	for rest := v.Bytes; len(rest) > 0; {
		var seg []byte
		var err error
		if rest, err = asn1.Unmarshal(rest, &seg); err != nil {
			return nil, err
		}
		out = append(out, seg...)
	}
	return out, nil
}

// damaged is the error for content that fails to decrypt with a key that
// matched: the message was altered or encrypted wrongly.
func damaged() error {
	return lanyard.Errorf(lanyard.EINVALID, "The message could not be decrypted: it is damaged.")
}
