package appclient

import (
	"crypto/ecdh"
	"crypto/hpke"
	"errors"
	"fmt"
	"strings"
)

// KeyDeliveryInfo returns the HPKE info string that binds a sealed key to
// the serial number of its certificate: "lanyard key delivery v1\n"
// followed by the serial in lower-case hex.
func KeyDeliveryInfo(serial string) []byte {
	return []byte("lanyard key delivery v1\n" + strings.ToLower(serial))
}

// errNotX25519 refuses transport keys on other curves: the app API's KEM
// is DHKEM(X25519, HKDF-SHA256) only.
var errNotX25519 = errors.New("the transport key is not an X25519 key")

// SealKey encrypts the PKCS #8 DER of a private key to a device's
// transport key, for the certificate with the given serial. It uses HPKE
// (RFC 9180) single-shot base mode with DHKEM(X25519, HKDF-SHA256),
// HKDF-SHA256 and AES-256-GCM, and returns the encapsulated key followed
// by the ciphertext.
func SealKey(transportPub *ecdh.PublicKey, serial string, pkcs8 []byte) ([]byte, error) {
	if transportPub == nil || transportPub.Curve() != ecdh.X25519() {
		return nil, errNotX25519
	}
	pub, err := hpke.NewDHKEMPublicKey(transportPub)
	if err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	sealed, err := hpke.Seal(pub, hpke.HKDFSHA256(), hpke.AES256GCM(), KeyDeliveryInfo(serial), pkcs8)
	if err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	return sealed, nil
}

// OpenSealedKey decrypts a key sealed by SealKey with the device's
// transport key and returns the PKCS #8 DER. It fails if the key was
// sealed to another transport key or for another serial, or was altered.
func OpenSealedKey(transport *ecdh.PrivateKey, serial string, sealed []byte) ([]byte, error) {
	if transport == nil || transport.Curve() != ecdh.X25519() {
		return nil, errNotX25519
	}
	priv, err := hpke.NewDHKEMPrivateKey(transport)
	if err != nil {
		return nil, fmt.Errorf("open sealed key: %w", err)
	}
	pkcs8, err := hpke.Open(priv, hpke.HKDFSHA256(), hpke.AES256GCM(), KeyDeliveryInfo(serial), sealed)
	if err != nil {
		return nil, fmt.Errorf("open sealed key for certificate %s: %w", strings.ToLower(serial), err)
	}
	return pkcs8, nil
}
