package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/secret"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Algorithms are the ID token signature algorithms: RS256 by default, as
// OpenID Connect requires every relying party to accept, and ES256 for the
// clients registered for it.
var Algorithms = []string{string(jose.RS256), string(jose.ES256)}

// keyRing holds the signing keys: the database has them sealed, the ring
// keeps the ones it unsealed. Which key is active is read from the database
// on every use, so a rotation at one instance reaches all at once.
type keyRing struct {
	store Store
	box   *secret.Box
	// overlap is how long a retired key stays published: longer than the
	// tokens it signed live.
	overlap time.Duration
	now     func() time.Time

	mu       sync.Mutex
	unsealed map[string]crypto.Signer
}

func keyAD(id string) string { return "lanyard oidc key v1|" + id }

// newKey makes a key of alg and seals it.
func (kr *keyRing) newKey(alg string) (*Key, crypto.Signer, error) {
	var signer crypto.Signer
	var err error
	switch alg {
	case string(jose.RS256):
		signer, err = rsa.GenerateKey(rand.Reader, 2048)
	case string(jose.ES256):
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, nil, lanyard.Errorf(lanyard.EINVALID, "The signature algorithm must be one of %s.", strings.Join(Algorithms, ", "))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key: %w", err)
	}
	defer clear(der)
	pub, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return nil, nil, fmt.Errorf("encode public key: %w", err)
	}
	k := &Key{ID: strings.ToLower(rand.Text()), Algorithm: alg, PublicKey: pub}
	if k.Sealed, err = kr.box.Seal(der, keyAD(k.ID)); err != nil {
		return nil, nil, err
	}
	return k, signer, nil
}

// unseal returns the private key of k.
func (kr *keyRing) unseal(k *Key) (crypto.Signer, error) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if s, ok := kr.unsealed[k.ID]; ok {
		return s, nil
	}
	der, err := kr.box.Open(k.Sealed, keyAD(k.ID))
	if err != nil {
		return nil, fmt.Errorf("unseal signing key %s: %w", k.ID, err)
	}
	defer clear(der)
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("decode signing key %s: %w", k.ID, err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("signing key %s is a %T", k.ID, key)
	}
	kr.unsealed[k.ID] = s
	return s, nil
}

// active returns the active key of alg, making it on first use. Instances
// that make one together agree on the one stored first.
func (kr *keyRing) active(ctx context.Context, alg string) (*Key, crypto.Signer, error) {
	for range 2 {
		keys, err := kr.store.Keys(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, k := range keys {
			if k.Algorithm == alg && k.RetiredAt.IsZero() {
				s, err := kr.unseal(k)
				return k, s, err
			}
		}
		k, s, err := kr.newKey(alg)
		if err != nil {
			return nil, nil, err
		}
		err = kr.store.InsertKey(ctx, k)
		if err == nil {
			kr.mu.Lock()
			kr.unsealed[k.ID] = s
			kr.mu.Unlock()
			return k, s, nil
		} else if lanyard.ErrorCode(err) != lanyard.ECONFLICT {
			return nil, nil, err
		}
	}
	return nil, nil, fmt.Errorf("no active %s signing key", alg)
}

// published returns the public keys relying parties verify with: the
// active ones and those retired less than overlap ago.
func (kr *keyRing) published(ctx context.Context) ([]op.Key, error) {
	keys, err := kr.store.Keys(ctx)
	if err != nil {
		return nil, err
	}
	cutoff := kr.now().Add(-kr.overlap)
	var out []op.Key
	for _, k := range keys {
		if !k.RetiredAt.IsZero() && k.RetiredAt.Before(cutoff) {
			continue
		}
		pub, err := x509.ParsePKIXPublicKey(k.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("decode public key %s: %w", k.ID, err)
		}
		out = append(out, publicKey{id: k.ID, alg: jose.SignatureAlgorithm(k.Algorithm), key: pub})
	}
	return out, nil
}

// rotate makes a new key for each algorithm and retires the old ones,
// which stay published for overlap.
func (kr *keyRing) rotate(ctx context.Context, actor lanyard.Actor) ([]*Key, error) {
	var keys []*Key
	for _, alg := range Algorithms {
		k, _, err := kr.newKey(alg)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if err := kr.store.RotateKeys(ctx, actor, keys, kr.now().Add(-kr.overlap)); err != nil {
		return nil, err
	}
	return keys, nil
}

// publicKey is a published key, as op.Key.
type publicKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key any
}

func (k publicKey) ID() string                         { return k.id }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return k.alg }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.key }

// signingKey is the active key of an algorithm, as op.SigningKey.
type signingKey struct {
	id     string
	alg    jose.SignatureAlgorithm
	signer crypto.Signer
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k signingKey) Key() any                                    { return k.signer }
func (k signingKey) ID() string                                  { return k.id }
