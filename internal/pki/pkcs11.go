//go:build cgo

package pki

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/ThalesGroup/crypto11"
	"github.com/lanyard-id/lanyard"
	"github.com/miekg/pkcs11"
)

// PKCS11Backend keeps the CA keys in a PKCS#11 token, such as an HSM.
// Keys are generated inside the token as sensitive, non-extractable private
// objects and found again by their label; the CA signs through the token
// and never sees the private key. The database holds only the labels.
//
// Whoever makes the backend closes it, after the CA that uses it is done.
type PKCS11Backend struct {
	ctx       *crypto11.Context
	token     string
	closeOnce sync.Once
}

var (
	_ KeyBackend = (*PKCS11Backend)(nil)
	_ KeyDeleter = (*PKCS11Backend)(nil)
	_ io.Closer  = (*PKCS11Backend)(nil)
)

// NewPKCS11Backend loads the module, finds the token by its label and logs
// in with the PIN. A missing module or token and a wrong PIN each give an
// error that says so in one line.
func NewPKCS11Backend(cfg PKCS11Config) (*PKCS11Backend, error) {
	switch {
	case cfg.Module == "":
		return nil, errors.New("no PKCS#11 module given")
	case cfg.TokenLabel == "":
		return nil, errors.New("no PKCS#11 token label given")
	case cfg.PIN == "":
		return nil, errors.New("no PIN given for the PKCS#11 token")
	}
	if _, err := os.Stat(cfg.Module); err != nil {
		return nil, fmt.Errorf("PKCS#11 module: %w", err)
	}
	ctx, err := crypto11.Configure(&crypto11.Config{Path: cfg.Module, TokenLabel: cfg.TokenLabel, Pin: cfg.PIN})
	if err != nil {
		return nil, configureError(cfg, err)
	}
	return &PKCS11Backend{ctx: ctx, token: cfg.TokenLabel}, nil
}

// configureError turns the failures an operator can fix into plain lines.
func configureError(cfg PKCS11Config, err error) error {
	var code pkcs11.Error
	switch {
	case errors.As(err, &code) && code == pkcs11.CKR_PIN_INCORRECT:
		return fmt.Errorf("the PIN for PKCS#11 token %q is wrong", cfg.TokenLabel)
	case errors.As(err, &code) && code == pkcs11.CKR_PIN_LOCKED:
		return fmt.Errorf("the PIN for PKCS#11 token %q is locked; unlock it with the token's own tools", cfg.TokenLabel)
	case err.Error() == "could not find PKCS#11 token": // crypto11 does not export this error
		return fmt.Errorf("no PKCS#11 token labelled %q in %s", cfg.TokenLabel, cfg.Module)
	}
	return fmt.Errorf("open PKCS#11 token %q with %s: %w", cfg.TokenLabel, cfg.Module, err)
}

// Name returns "pkcs11".
func (b *PKCS11Backend) Name() string { return "pkcs11" }

// tokenKeyID derives the CKA_ID of a key from its label, so that the two
// halves of a pair share it and tools that list keys by ID show them apart.
func tokenKeyID(label string) []byte {
	sum := sha256.Sum256([]byte("lanyard ca key|" + label))
	return sum[:20]
}

// CreateKey generates a key pair inside the token under label. The private
// half is sensitive, never extractable, usable only after login and only
// for signing; a label in use is ECONFLICT.
func (b *PKCS11Backend) CreateKey(ctx context.Context, label string, alg KeyAlgorithm) (crypto.Signer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !alg.Valid() {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The key algorithm %q is not one of ecdsa-p256, ecdsa-p384, rsa-3072.", alg)
	}
	if _, err := b.find(label); err == nil {
		return nil, lanyard.Errorf(lanyard.ECONFLICT, "The PKCS#11 token %q already holds a key labelled %s.", b.token, label)
	} else if lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		return nil, err
	}
	public, err := crypto11.NewAttributeSetWithIDAndLabel(tokenKeyID(label), []byte(label))
	if err != nil {
		return nil, err
	}
	// Set every attribute that matters rather than trust the token's
	// defaults, which the standard leaves to each token for some of them.
	private := public.Copy()
	for attr, v := range map[crypto11.AttributeType]bool{
		pkcs11.CKA_PRIVATE: true, pkcs11.CKA_SENSITIVE: true, pkcs11.CKA_EXTRACTABLE: false,
		pkcs11.CKA_SIGN: true, pkcs11.CKA_DECRYPT: false, pkcs11.CKA_UNWRAP: false, pkcs11.CKA_DERIVE: false,
	} {
		if err := private.Set(attr, v); err != nil {
			return nil, err
		}
	}
	var signer crypto.Signer
	switch alg {
	case ECDSAP256:
		signer, err = b.ctx.GenerateECDSAKeyPairWithAttributes(public, private, elliptic.P256())
	case ECDSAP384:
		signer, err = b.ctx.GenerateECDSAKeyPairWithAttributes(public, private, elliptic.P384())
	case RSA3072:
		if err = public.Set(pkcs11.CKA_ENCRYPT, false); err == nil {
			signer, err = b.ctx.GenerateRSAKeyPairWithAttributes(public, private, 3072)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key %s in PKCS#11 token %q: %w", alg, label, b.token, err)
	}
	return signer, nil
}

// LoadKey returns a signer for the key under label; signing happens in the
// token.
func (b *PKCS11Backend) LoadKey(ctx context.Context, label string) (crypto.Signer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.find(label)
}

// DeleteKey removes the key pair under label from the token, if it is there.
func (b *PKCS11Backend) DeleteKey(ctx context.Context, label string) error {
	signer, err := b.find(label)
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if err := signer.Delete(); err != nil {
		return fmt.Errorf("delete key %s from PKCS#11 token %q: %w", label, b.token, err)
	}
	return nil
}

// find returns the key pair under label, or ENOTFOUND. Two pairs under one
// label are an error: signing with the wrong one would go unseen until
// relying parties reject the signatures.
func (b *PKCS11Backend) find(label string) (crypto11.Signer, error) {
	pairs, err := b.ctx.FindKeyPairs(nil, []byte(label))
	switch {
	case err != nil:
		return nil, fmt.Errorf("find key %s in PKCS#11 token %q: %w", label, b.token, err)
	case len(pairs) > 1:
		return nil, fmt.Errorf("the PKCS#11 token %q holds %d keys labelled %s", b.token, len(pairs), label)
	case len(pairs) == 0:
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "The PKCS#11 token %q holds no key labelled %s.", b.token, label)
	}
	return pairs[0], nil
}

// Close logs out and unloads the module once no other backend uses it.
// Signers of the backend stop working.
func (b *PKCS11Backend) Close() error {
	var err error
	b.closeOnce.Do(func() { err = b.ctx.Close() })
	return err
}
