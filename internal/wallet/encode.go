package wallet

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
)

// contentsVersion is the version of the sealed JSON document.
const contentsVersion = 1

// contents is the sealed JSON document. Keys are PKCS #8 DER and
// certificates DER, base64 in JSON.
type contents struct {
	Version  int             `json:"version"`
	Profiles []storedProfile `json:"profiles"`
}

// storedProfile is a Profile as it is kept in the file.
type storedProfile struct {
	ID                string              `json:"id"`
	ProfileName       string              `json:"profile_name"`
	ServerName        string              `json:"server_name"`
	UserID            string              `json:"user_id"`
	ServerURL         string              `json:"server_url"`
	DeviceName        string              `json:"device_name"`
	State             State               `json:"state"`
	MobileID          string              `json:"mobile_id,omitempty"`
	DeviceCredential  string              `json:"device_credential,omitempty"`
	Extra             map[string]string   `json:"extra,omitempty"`
	TransportKey      []byte              `json:"transport_key,omitempty"`
	SignatureKey      []byte              `json:"signature_key,omitempty"`
	AuthenticationKey []byte              `json:"authentication_key,omitempty"`
	Certificates      []storedCertificate `json:"certificates"`
	CAChain           [][]byte            `json:"ca_chain"`
}

// storedCertificate is a Certificate as it is kept in the file.
type storedCertificate struct {
	Usage       Usage  `json:"usage"`
	Recovered   bool   `json:"recovered"`
	Certificate []byte `json:"certificate"`
	Key         []byte `json:"key,omitempty"`
}

// encodeProfiles returns the JSON document of the profiles.
func encodeProfiles(profiles []Profile) ([]byte, error) {
	doc := contents{Version: contentsVersion, Profiles: []storedProfile{}}
	for _, p := range profiles {
		s := storedProfile{ID: p.ID, ProfileName: p.ProfileName, ServerName: p.ServerName, UserID: p.UserID,
			ServerURL: p.ServerURL, DeviceName: p.DeviceName, State: p.State, MobileID: p.MobileID,
			DeviceCredential: p.DeviceCredential, Extra: p.Extra, Certificates: []storedCertificate{}, CAChain: [][]byte{}}
		var err error
		if s.TransportKey, err = marshalKey(p.TransportKey); err != nil {
			return nil, err
		}
		if s.SignatureKey, err = marshalKey(p.SignatureKey); err != nil {
			return nil, err
		}
		if s.AuthenticationKey, err = marshalKey(p.AuthenticationKey); err != nil {
			return nil, err
		}
		for _, c := range p.Certificates {
			sc := storedCertificate{Usage: c.Usage, Recovered: c.Recovered, Certificate: c.Certificate.Raw}
			if sc.Key, err = marshalKey(c.Key); err != nil {
				return nil, err
			}
			s.Certificates = append(s.Certificates, sc)
		}
		for _, c := range p.CAChain {
			s.CAChain = append(s.CAChain, c.Raw)
		}
		doc.Profiles = append(doc.Profiles, s)
	}
	return json.Marshal(doc)
}

// marshalKey returns a private key as PKCS #8 DER, or nil for no key.
func marshalKey(key any) ([]byte, error) {
	switch k := key.(type) {
	case nil:
		return nil, nil
	case *ecdh.PrivateKey:
		if k == nil {
			return nil, nil
		}
	case *ecdsa.PrivateKey:
		if k == nil {
			return nil, nil
		}
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return der, nil
}

// decodeProfiles parses the JSON document of the profiles.
func decodeProfiles(b []byte) ([]Profile, error) {
	var doc contents
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Version != contentsVersion {
		return nil, fmt.Errorf("wallet contents version %d", doc.Version)
	}
	profiles := make([]Profile, 0, len(doc.Profiles))
	for _, s := range doc.Profiles {
		p := Profile{ID: s.ID, ProfileName: s.ProfileName, ServerName: s.ServerName, UserID: s.UserID,
			ServerURL: s.ServerURL, DeviceName: s.DeviceName, State: s.State, MobileID: s.MobileID,
			DeviceCredential: s.DeviceCredential, Extra: s.Extra}
		var err error
		if p.TransportKey, err = parseKey[*ecdh.PrivateKey](s.TransportKey); err != nil {
			return nil, err
		}
		if p.SignatureKey, err = parseKey[*ecdsa.PrivateKey](s.SignatureKey); err != nil {
			return nil, err
		}
		if p.AuthenticationKey, err = parseKey[*ecdsa.PrivateKey](s.AuthenticationKey); err != nil {
			return nil, err
		}
		for _, sc := range s.Certificates {
			c := Certificate{Usage: sc.Usage, Recovered: sc.Recovered}
			if c.Certificate, err = x509.ParseCertificate(sc.Certificate); err != nil {
				return nil, err
			}
			if c.Key, err = parseKey[crypto.Signer](sc.Key); err != nil {
				return nil, err
			}
			p.Certificates = append(p.Certificates, c)
		}
		for _, der := range s.CAChain {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, err
			}
			p.CAChain = append(p.CAChain, c)
		}
		profiles = append(profiles, p)
	}
	return profiles, nil
}

// parseKey parses a PKCS #8 private key of type K; no bytes give K's zero
// value.
func parseKey[K any](der []byte) (K, error) {
	var zero K
	if len(der) == 0 {
		return zero, nil
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return zero, err
	}
	k, ok := key.(K)
	if !ok {
		return zero, errors.New("unexpected private key type")
	}
	return k, nil
}
