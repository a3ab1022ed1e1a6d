package pki

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"

	"github.com/lanyard-id/lanyard"
)

// KeyAlgorithm names the kind of a CA key.
type KeyAlgorithm string

// The CA key algorithms. ECDSA P-256 is the default; RSA 3072 is for relying
// parties that cannot verify ECDSA.
const (
	ECDSAP256 KeyAlgorithm = "ecdsa-p256"
	ECDSAP384 KeyAlgorithm = "ecdsa-p384"
	RSA3072   KeyAlgorithm = "rsa-3072"
)

// Valid reports whether a is a known algorithm.
func (a KeyAlgorithm) Valid() bool { return a == ECDSAP256 || a == ECDSAP384 || a == RSA3072 }

// KeyBackend keeps the CA's private keys and hands out signers for them;
// the private key itself need never leave the backend. The software backend
// keeps keys sealed in the database; a PKCS#11 backend for HSMs fits the same
// seam, with keys created and used inside the token.
type KeyBackend interface {
	// Name identifies the backend in the CA record, e.g. "software".
	Name() string
	// CreateKey makes a new key under label; a label in use is ECONFLICT.
	CreateKey(ctx context.Context, label string, alg KeyAlgorithm) (crypto.Signer, error)
	// LoadKey returns the signer of the key under label.
	LoadKey(ctx context.Context, label string) (crypto.Signer, error)
}

// KeyDeleter is an optional capability of a KeyBackend: removing a key, as
// the CA does with the keys it made when another instance created the CA
// first. Backends without it keep such keys.
type KeyDeleter interface {
	DeleteKey(ctx context.Context, label string) error
}

// generateKey makes a software key of the given algorithm.
func generateKey(alg KeyAlgorithm) (crypto.Signer, error) {
	switch alg {
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	}
	return nil, lanyard.Errorf(lanyard.EINVALID, "The key algorithm %q is not one of ecdsa-p256, ecdsa-p384, rsa-3072.", alg)
}

// samePublicKey reports whether signer holds the private key of pub.
func samePublicKey(signer crypto.Signer, pub crypto.PublicKey) bool {
	k, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(pub)
}

func wrapKeyErr(op, label string, err error) error {
	if lanyard.ErrorCode(err) != lanyard.EINTERNAL {
		return err
	}
	return fmt.Errorf("%s key %s: %w", op, label, err)
}
