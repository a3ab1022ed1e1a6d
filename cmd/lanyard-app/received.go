package main

import (
	"crypto"
	"crypto/ecdh"
	"crypto/x509"
	"fmt"
	"math/big"

	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/wallet"
)

// The functions here turn what the server sent into wallet contents,
// checking that each certificate belongs to a key the device holds: a
// server that answers with someone else's certificate is refused rather
// than stored.

// fillProfile sets p from an enrollment answer. p holds the device keys
// the enrollment request was made with.
func fillProfile(p *wallet.Profile, resp *appclient.EnrollResponse) error {
	if resp.ProfileName == "" || resp.MobileID == "" {
		return fmt.Errorf("the server's answer has no profile name or mobile ID")
	}
	p.ProfileName, p.ServerName, p.UserID = resp.ProfileName, resp.ServerName, resp.UserID
	p.MobileID, p.State = resp.MobileID, wallet.State(resp.State)
	for _, c := range resp.Certificates {
		cert, err := x509.ParseCertificate(c.Certificate)
		if err != nil {
			return fmt.Errorf("the server sent a %s certificate that does not parse: %w", c.Usage, err)
		}
		var key crypto.PublicKey
		switch c.Usage {
		case appclient.UsageSignature:
			key = p.SignatureKey.Public()
		case appclient.UsageAuthentication:
			key = p.AuthenticationKey.Public()
		default:
			return fmt.Errorf("the server sent a certificate with usage %q for a device key", c.Usage)
		}
		if !sameKey(cert.PublicKey, key) {
			return fmt.Errorf("the server sent a %s certificate for another key", c.Usage)
		}
		p.Certificates = append(p.Certificates, wallet.Certificate{Usage: wallet.Usage(c.Usage), Certificate: cert})
	}
	for _, k := range resp.EncryptionKeys {
		c, err := openEncryptionKey(p.TransportKey, k)
		if err != nil {
			return err
		}
		p.Certificates = append(p.Certificates, c)
	}
	for _, der := range resp.Chain {
		ca, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("the server sent a CA certificate that does not parse: %w", err)
		}
		p.CAChain = append(p.CAChain, ca)
	}
	return nil
}

// openEncryptionKey opens a sealed encryption key with the transport key
// and returns it with its certificate.
func openEncryptionKey(transport *ecdh.PrivateKey, k appclient.EncryptionKey) (wallet.Certificate, error) {
	cert, err := x509.ParseCertificate(k.Certificate)
	if err != nil {
		return wallet.Certificate{}, fmt.Errorf("the server sent an encryption certificate that does not parse: %w", err)
	}
	if serial, ok := new(big.Int).SetString(k.Serial, 16); !ok || serial.Cmp(cert.SerialNumber) != 0 {
		return wallet.Certificate{}, fmt.Errorf("the server sent encryption key %q with the certificate of serial %x", k.Serial, cert.SerialNumber)
	}
	pkcs8, err := appclient.OpenSealedKey(transport, k.Serial, k.SealedKey)
	if err != nil {
		return wallet.Certificate{}, err
	}
	defer clear(pkcs8)
	key, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return wallet.Certificate{}, fmt.Errorf("encryption key %s does not parse: %w", k.Serial, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok || !sameKey(signer.Public(), cert.PublicKey) {
		return wallet.Certificate{}, fmt.Errorf("encryption key %s does not belong to its certificate", k.Serial)
	}
	return wallet.Certificate{Usage: wallet.UsageEncryption, Recovered: k.Recovered, Certificate: cert, Key: signer}, nil
}

// certKey identifies a certificate in a profile: two deliveries of one
// certificate carry the same DER.
func certKey(c *x509.Certificate) string {
	return string(c.Raw)
}

// sameKey reports whether two public keys are the same key.
func sameKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && b != nil && k.Equal(b)
}
