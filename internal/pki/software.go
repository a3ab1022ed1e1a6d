package pki

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/lanyard-id/lanyard/internal/secret"
)

// SoftwareBackend keeps CA keys in the database as PKCS#8, sealed with
// AES-256-GCM under the master key and bound to their label. Every instance
// with the same master key can load them; the database alone cannot.
type SoftwareBackend struct {
	store KeyStore
	kek   []byte
}

var (
	_ KeyBackend = (*SoftwareBackend)(nil)
	_ KeyDeleter = (*SoftwareBackend)(nil)
)

// NewSoftwareBackend returns a backend keeping keys in st, sealed under kek
// (MasterKeySize bytes).
func NewSoftwareBackend(st KeyStore, kek []byte) *SoftwareBackend {
	return &SoftwareBackend{store: st, kek: kek}
}

// Name returns "software".
func (b *SoftwareBackend) Name() string { return "software" }

func keyAD(label string) string { return "lanyard ca key v1|" + label }

// CreateKey generates a key and stores it sealed under label.
func (b *SoftwareBackend) CreateKey(ctx context.Context, label string, alg KeyAlgorithm) (crypto.Signer, error) {
	key, err := generateKey(alg)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key %s: %w", label, err)
	}
	sealed, err := secret.Seal(b.kek, der, keyAD(label))
	clear(der)
	if err != nil {
		return nil, err
	}
	if err := b.store.InsertKey(ctx, &KeyRecord{Label: label, Algorithm: alg, Sealed: sealed}); err != nil {
		return nil, wrapKeyErr("store", label, err)
	}
	return key, nil
}

// LoadKey unseals the key under label. A key that does not open gives
// ErrMasterKeyMismatch: the master key is not the one it was sealed with.
func (b *SoftwareBackend) LoadKey(ctx context.Context, label string) (crypto.Signer, error) {
	rec, err := b.store.FindKey(ctx, label)
	if err != nil {
		return nil, wrapKeyErr("find", label, err)
	}
	der, err := secret.Open(b.kek, rec.Sealed, keyAD(label))
	if errors.Is(err, secret.ErrOpen) {
		return nil, ErrMasterKeyMismatch
	} else if err != nil {
		return nil, err
	}
	defer clear(der)
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("decode key %s: %w", label, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key %s is a %T, not a signer", label, key)
	}
	return signer, nil
}

// DeleteKey removes the key under label.
func (b *SoftwareBackend) DeleteKey(ctx context.Context, label string) error {
	return b.store.DeleteKey(ctx, label)
}
