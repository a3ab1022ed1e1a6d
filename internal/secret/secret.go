// Package secret seals small values at rest — CA keys, archived keys, mail
// bodies in the outbox — with AES-256-GCM, so that what must be kept but not
// read never lies in the database in clear. Sealed values are a version
// byte, the 12-byte nonce, then the ciphertext with its tag; the associated
// data binds each to the row and purpose it was made for, so that no sealed
// value can be moved to another row or used as another kind of key.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

const version = 1

// ErrOpen is returned when a sealed value does not open: a wrong key, or
// data that was changed or moved.
var ErrOpen = errors.New("sealed data does not open with this key")

// Seal encrypts plaintext under key (32 bytes) with associated data ad.
func Seal(key, plaintext []byte, ad string) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = version
	rand.Read(out[1:])
	return aead.Seal(out, out[1:], plaintext, []byte(ad)), nil
}

// Open decrypts what Seal made with the same key and associated data.
func Open(key, sealed []byte, ad string) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(sealed) < 1+n+aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	plain, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(ad))
	if err != nil {
		return nil, ErrOpen
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

// Box seals and opens values with a key derived from the master key for
// one purpose.
type Box struct {
	key []byte
}

// New derives the key of purpose from the master key. Different purposes
// get unrelated keys, so a value sealed for one cannot be opened as another.
func New(master []byte, purpose string) (*Box, error) {
	if len(master) < 32 {
		return nil, errors.New("secret: the master key must have at least 32 bytes")
	}
	key, err := hkdf.Key(sha256.New, master, nil, "lanyard "+purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	return &Box{key: key}, nil
}

// Seal encrypts plaintext bound to ad (say, the row it belongs to).
func (b *Box) Seal(plaintext []byte, ad string) ([]byte, error) { return Seal(b.key, plaintext, ad) }

// Open decrypts what Seal made with the same ad.
func (b *Box) Open(sealed []byte, ad string) ([]byte, error) { return Open(b.key, sealed, ad) }
