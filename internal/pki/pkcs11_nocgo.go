//go:build !cgo

package pki

import (
	"context"
	"crypto"
	"errors"
)

// PKCS11Backend stands in for the PKCS#11 key backend in builds without
// cgo: loading a vendor's PKCS#11 library needs it. Such a build still runs
// a CA with the software backend, and says why when asked for a token.
type PKCS11Backend struct{}

var (
	_ KeyBackend = (*PKCS11Backend)(nil)
	_ KeyDeleter = (*PKCS11Backend)(nil)
)

var errNoPKCS11 = errors.New("this build of lanyard has no PKCS#11 support; build it with CGO_ENABLED=1")

// NewPKCS11Backend fails: this build cannot load PKCS#11 libraries.
func NewPKCS11Backend(PKCS11Config) (*PKCS11Backend, error) { return nil, errNoPKCS11 }

// Name returns "pkcs11".
func (b *PKCS11Backend) Name() string { return "pkcs11" }

// CreateKey fails: this build cannot load PKCS#11 libraries.
func (b *PKCS11Backend) CreateKey(context.Context, string, KeyAlgorithm) (crypto.Signer, error) {
	return nil, errNoPKCS11
}

// LoadKey fails: this build cannot load PKCS#11 libraries.
func (b *PKCS11Backend) LoadKey(context.Context, string) (crypto.Signer, error) {
	return nil, errNoPKCS11
}

// DeleteKey fails: this build cannot load PKCS#11 libraries.
func (b *PKCS11Backend) DeleteKey(context.Context, string) error { return errNoPKCS11 }

// Close does nothing.
func (b *PKCS11Backend) Close() error { return nil }
