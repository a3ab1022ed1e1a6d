package appclient

import (
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
)

// NewEnrollRequest builds the request of POST /app/v1/enroll from the keys
// an app made: certificate requests signed by the signature and the
// authentication key, and the transport key's public half. The requests'
// subject is the device name; the server ignores it and names the user as
// it knows them.
func NewEnrollRequest(code, device string, signature, authentication crypto.Signer, transport *ecdh.PublicKey) (EnrollRequest, error) {
	req := EnrollRequest{Code: code, DeviceName: device, TransportKey: transport.Bytes()}
	var err error
	if req.CSRs.Signature, err = certificateRequest(device, signature); err != nil {
		return req, err
	}
	if req.CSRs.Authentication, err = certificateRequest(device, authentication); err != nil {
		return req, err
	}
	return req, nil
}

func certificateRequest(device string, key crypto.Signer) ([]byte, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: device}}, key)
	if err != nil {
		return nil, fmt.Errorf("make certificate request: %w", err)
	}
	return der, nil
}
