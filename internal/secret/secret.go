// Package secret seals small values at rest — mail bodies in the outbox,
// for instance — with AES-256-GCM under a key derived from the master key,
// so that what must be kept but not read (an activation link) never lies
// in the database in clear.
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

// Box seals and opens values with one derived key.
type Box struct {
	aead cipher.AEAD
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
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext bound to ad (say, the row it belongs to): the
// nonce followed by the ciphertext.
func (b *Box) Seal(plaintext []byte, ad string) []byte {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	rand.Read(nonce)
	return b.aead.Seal(nonce, nonce, plaintext, []byte(ad))
}

// Open decrypts what Seal made with the same ad.
func (b *Box) Open(sealed []byte, ad string) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, errors.New("secret: sealed value too short")
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(ad))
	if err != nil {
		return nil, errors.New("secret: sealed value does not open: wrong key or altered")
	}
	return out, nil
}
