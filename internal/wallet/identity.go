package wallet

import (
	"crypto"
	"crypto/x509"
	"time"

	"github.com/lanyard-id/lanyard"
)

// Identity is a certificate the device can use, with its private key and
// the CA chain of its profile.
type Identity struct {
	ProfileID   string
	ProfileName string
	Certificate *x509.Certificate
	Key         crypto.Signer
	Chain       []*x509.Certificate // issuing CA first
}

// SigningIdentity returns the signature certificate to sign with. profile
// names a profile by ID or name, which must be active; empty means the
// first active profile, in wallet order, that has a valid signature
// certificate.
func (w *Wallet) SigningIdentity(profile string) (Identity, error) {
	return w.identity(profile, UsageSignature)
}

// AuthenticationIdentity returns the authentication certificate to
// authenticate with, chosen like SigningIdentity.
func (w *Wallet) AuthenticationIdentity(profile string) (Identity, error) {
	return w.identity(profile, UsageAuthentication)
}

// identity finds a currently valid, non-recovered certificate of the
// given usage whose key the device holds.
func (w *Wallet) identity(profile string, usage Usage) (Identity, error) {
	candidates := w.profiles
	if profile != "" {
		p, err := w.Find(profile)
		if err != nil {
			return Identity{}, err
		}
		if p.State != StateActive {
			return Identity{}, lanyard.Errorf(lanyard.ECONFLICT, "Profile %q is %s, not active.", p.ProfileName, p.State)
		}
		candidates = []Profile{p}
	}
	now := time.Now()
	for _, p := range candidates {
		if p.State != StateActive {
			continue
		}
		for _, c := range p.Certificates {
			if c.Usage != usage || c.Recovered || now.Before(c.Certificate.NotBefore) || now.After(c.Certificate.NotAfter) {
				continue
			}
			if key := p.PrivateKey(c); key != nil {
				return Identity{ProfileID: p.ID, ProfileName: p.ProfileName, Certificate: c.Certificate, Key: key, Chain: p.CAChain}, nil
			}
		}
	}
	if profile != "" {
		return Identity{}, lanyard.Errorf(lanyard.ENOTFOUND, "Profile %q has no valid %s certificate.", profile, usage)
	}
	return Identity{}, lanyard.Errorf(lanyard.ENOTFOUND, "No active profile has a valid %s certificate.", usage)
}

// DecryptionKeys returns every encryption certificate in the wallet whose
// key the device holds, recovered and expired ones included, across all
// profiles whatever their state: an old message stays readable after its
// certificate expired or its mobile ID was locked. Each Key also
// implements crypto.Decrypter.
func (w *Wallet) DecryptionKeys() []Identity {
	var out []Identity
	for _, p := range w.profiles {
		for _, c := range p.Certificates {
			if c.Usage != UsageEncryption {
				continue
			}
			if _, ok := c.Key.(crypto.Decrypter); ok {
				out = append(out, Identity{ProfileID: p.ID, ProfileName: p.ProfileName, Certificate: c.Certificate, Key: c.Key, Chain: p.CAChain})
			}
		}
	}
	return out
}
