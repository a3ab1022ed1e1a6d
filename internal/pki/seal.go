package pki

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// Sealed values are AES-256-GCM: a version byte, the 12-byte nonce, then the
// ciphertext with its tag. The associated data binds each ciphertext to the
// row and purpose it was made for, so that no sealed value can be moved to
// another row or used as another kind of key.
const sealVersion = 1

// errUnseal is returned when a sealed value does not open: a wrong key, or
// data that was changed or moved.
var errUnseal = errors.New("sealed data does not open with this key")

// seal encrypts plaintext under key (32 bytes) with associated data ad.
func seal(key, plaintext []byte, ad string) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = sealVersion
	rand.Read(out[1:])
	return aead.Seal(out, out[1:], plaintext, []byte(ad)), nil
}

// unseal opens what seal made with the same key and associated data.
func unseal(key, sealed []byte, ad string) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(sealed) < 1+n+aead.Overhead() || sealed[0] != sealVersion {
		return nil, errUnseal
	}
	plain, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(ad))
	if err != nil {
		return nil, errUnseal
	}
	return plain, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return cipher.NewGCM(block)
}
