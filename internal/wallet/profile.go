package wallet

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"maps"
	"slices"
)

// State is the state of a profile's mobile ID as the app last learnt it
// from the server.
type State string

// The mobile ID states, as in the server.
const (
	StateRegistered State = "registered"
	StateActive     State = "active"
	StateInactive   State = "inactive"
	StateLocked     State = "locked"
)

// Usage is what a certificate is for.
type Usage string

// The certificate usages of a mobile ID.
const (
	UsageSignature      Usage = "signature"
	UsageAuthentication Usage = "authentication"
	UsageEncryption     Usage = "encryption"
)

// Profile is one mobile ID in the wallet: a user on a server, the keys
// the device holds for it and the certificates the server made for it.
type Profile struct {
	// ID identifies the profile in the wallet; AddProfile assigns it.
	ID          string
	ProfileName string
	ServerName  string
	UserID      string
	ServerURL   string // base URL of the server's app API
	DeviceName  string
	State       State

	// MobileID and DeviceCredential are what the server gave out at
	// enrolment to recognise this device later; both are opaque here.
	MobileID         string
	DeviceCredential string
	// Extra holds further values the app keeps for the profile.
	Extra map[string]string

	// TransportKey is the X25519 key the server encrypts server-made keys
	// to (with HPKE, see crypto/hpke.NewDHKEMPrivateKey).
	TransportKey *ecdh.PrivateKey
	// SignatureKey and AuthenticationKey are made on the device; the
	// server certifies them.
	SignatureKey      *ecdsa.PrivateKey
	AuthenticationKey *ecdsa.PrivateKey

	Certificates []Certificate
	// CAChain is the issuing CA first, up to the root.
	CAChain []*x509.Certificate
}

// Certificate is a certificate of a profile. Key is the private key the
// server sent for it (encryption keys, PKCS #8 in the file); it is nil for
// the signature and authentication certificates, whose keys are the
// profile's own, and for certificates whose key the device lacks.
type Certificate struct {
	Usage       Usage
	Recovered   bool // delivered by encryption key recovery
	Certificate *x509.Certificate
	Key         crypto.Signer
}

// GenerateKeys makes the keys a new profile needs that it does not have
// yet: ECDSA P-256 signature and authentication keys and an X25519
// transport key.
func (p *Profile) GenerateKeys() error {
	var err error
	if p.SignatureKey == nil {
		if p.SignatureKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return fmt.Errorf("generate signature key: %w", err)
		}
	}
	if p.AuthenticationKey == nil {
		if p.AuthenticationKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return fmt.Errorf("generate authentication key: %w", err)
		}
	}
	if p.TransportKey == nil {
		if p.TransportKey, err = ecdh.X25519().GenerateKey(rand.Reader); err != nil {
			return fmt.Errorf("generate transport key: %w", err)
		}
	}
	return nil
}

// PrivateKey returns the private key of one of the profile's
// certificates: its own Key, or the profile's signature or authentication
// key if that key's public half is the certificate's. It returns nil if
// the device does not hold the key.
func (p *Profile) PrivateKey(c Certificate) crypto.Signer {
	if c.Key != nil {
		return c.Key
	}
	for _, k := range []*ecdsa.PrivateKey{p.SignatureKey, p.AuthenticationKey} {
		if k != nil && c.Certificate != nil && k.PublicKey.Equal(c.Certificate.PublicKey) {
			return k
		}
	}
	return nil
}

// clone returns a copy of p that shares no slices or maps with it, so that
// callers cannot change the wallet behind its back.
func (p Profile) clone() Profile {
	p.Certificates = slices.Clone(p.Certificates)
	p.CAChain = slices.Clone(p.CAChain)
	p.Extra = maps.Clone(p.Extra)
	return p
}
