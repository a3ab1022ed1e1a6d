package mobileid

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/pki"
)

// ChallengeTTL is how long an authentication challenge can be answered.
const ChallengeTTL = 2 * time.Minute

func unauthorized() error {
	return lanyard.Errorf(lanyard.EUNAUTHORIZED, "The device signature does not verify.")
}

// DeviceRequest is a device-signed request as it arrived.
type DeviceRequest struct {
	MobileID     string
	Timestamp    string
	Signature    []byte
	Method       string
	PathAndQuery string
	Body         []byte
}

// AuthenticateDevice checks a device-signed request and returns its mobile
// ID: a fresh timestamp, a signature by the key of the mobile ID's
// authentication certificate, and that certificate valid in the CA.
func (s *Service) AuthenticateDevice(ctx context.Context, r DeviceRequest) (*lanyard.MobileID, error) {
	m, cert, err := s.signedByDevice(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := s.usable(cert); err != nil {
		return nil, err
	}
	if err := s.acceptOnce(ctx, m, r); err != nil {
		return nil, err
	}
	return m, nil
}

// DeviceState checks a device-signed request as AuthenticateDevice does,
// except that the authentication certificate may be revoked or on hold: a
// phone whose mobile ID was locked or deactivated proves it is that phone
// and learns the state, and nothing else.
func (s *Service) DeviceState(ctx context.Context, r DeviceRequest) (lanyard.MobileIDState, error) {
	m, _, err := s.signedByDevice(ctx, r)
	if err != nil {
		return "", err
	}
	if err := s.acceptOnce(ctx, m, r); err != nil {
		return "", err
	}
	return m.State, nil
}

// acceptOnce accepts a device-signed request once: it is remembered for as
// long as its timestamp would let it in.
func (s *Service) acceptOnce(ctx context.Context, m *lanyard.MobileID, r DeviceRequest) error {
	ts, err := strconv.ParseInt(r.Timestamp, 10, 64)
	if err != nil {
		return lanyard.Errorf(lanyard.EUNAUTHORIZED, "The request's timestamp is missing or malformed.")
	}
	sig := sha256.Sum256(r.Signature)
	err = s.Store.RememberDeviceRequest(ctx, m.ID, sig[:], time.Unix(ts, 0).Add(appclient.MaxClockSkew))
	if lanyard.ErrorCode(err) == lanyard.ECONFLICT {
		return lanyard.Errorf(lanyard.EUNAUTHORIZED, "The request was sent before; a replayed request is refused.")
	}
	return err
}

// signedByDevice checks a device-signed request's timestamp and its
// signature by the key of the mobile ID's authentication certificate,
// whatever the certificate's status, and returns the mobile ID and the
// certificate.
func (s *Service) signedByDevice(ctx context.Context, r DeviceRequest) (*lanyard.MobileID, *lanyard.Certificate, error) {
	ts, err := strconv.ParseInt(r.Timestamp, 10, 64)
	if err != nil {
		return nil, nil, lanyard.Errorf(lanyard.EUNAUTHORIZED, "The request's timestamp is missing or malformed.")
	}
	if d := s.now().Sub(time.Unix(ts, 0)); d > appclient.MaxClockSkew || d < -appclient.MaxClockSkew {
		return nil, nil, lanyard.Errorf(lanyard.EUNAUTHORIZED, "The request's timestamp is more than %s away from the server's clock.", appclient.MaxClockSkew)
	}
	return s.signedByAuthenticationKey(ctx, r.MobileID, appclient.DevicePayload(r.Method, r.PathAndQuery, ts, r.Body), r.Signature, unauthorized())
}

// signedByAuthenticationKey checks that sig is a signature over payload by
// the key of the authentication certificate of the mobile ID publicID,
// whatever the certificate's status, and returns the mobile ID and the
// certificate; refused is the error of any mismatch.
func (s *Service) signedByAuthenticationKey(ctx context.Context, publicID string, payload, sig []byte, refused error) (*lanyard.MobileID, *lanyard.Certificate, error) {
	m, err := s.Store.FindMobileIDByPublicID(ctx, publicID)
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		return nil, nil, refused
	} else if err != nil {
		return nil, nil, err
	}
	serials := m.Serials(lanyard.UsageAuthentication, false)
	if len(serials) == 0 {
		return nil, nil, refused
	}
	cert, err := s.Certs.FindCertificateBySerial(ctx, serials[0])
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		return nil, nil, refused
	} else if err != nil {
		return nil, nil, err
	}
	parsed, err := x509.ParseCertificate(cert.DER)
	if err != nil {
		return nil, nil, err
	}
	if !signedBy(parsed, payload, sig) {
		return nil, nil, refused
	}
	return m, cert, nil
}

// validCertificate returns a certificate the CA holds as valid: not
// revoked, not on hold, within its validity.
func (s *Service) validCertificate(ctx context.Context, serial string) (*lanyard.Certificate, *x509.Certificate, error) {
	cert, err := s.Certs.FindCertificateBySerial(ctx, serial)
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		return nil, nil, lanyard.Errorf(lanyard.EUNAUTHORIZED, "The certificate was not issued by this server.")
	} else if err != nil {
		return nil, nil, err
	}
	if err := s.usable(cert); err != nil {
		return nil, nil, err
	}
	parsed, err := x509.ParseCertificate(cert.DER)
	if err != nil {
		return nil, nil, err
	}
	return cert, parsed, nil
}

// usable refuses a certificate that is revoked, on hold or not within its
// validity.
func (s *Service) usable(cert *lanyard.Certificate) error {
	switch {
	case cert.Status == lanyard.CertificateRevoked:
		return lanyard.Errorf(lanyard.EUNAUTHORIZED, "The certificate is revoked.")
	case cert.Status == lanyard.CertificateOnHold:
		return lanyard.Errorf(lanyard.EUNAUTHORIZED, "The certificate is on hold.")
	case cert.Expired(s.now()) || s.now().Before(cert.NotBefore):
		return lanyard.Errorf(lanyard.EUNAUTHORIZED, "The certificate is not within its validity.")
	}
	return nil
}

// SyncResult is the state of a mobile ID and every key delivered to it.
type SyncResult struct {
	MobileID       *lanyard.MobileID
	EncryptionKeys []DeliveredKey
}

// Sync returns the keys of an authenticated device's mobile ID.
func (s *Service) Sync(ctx context.Context, m *lanyard.MobileID) (*SyncResult, error) {
	if m.State != lanyard.MobileIDActive {
		return &SyncResult{MobileID: m}, nil
	}
	actor := lanyard.Actor{Username: "app", Addr: "device " + m.DeviceName}
	keys, err := s.deliveredKeys(ctx, actor, m)
	if err != nil {
		return nil, err
	}
	return &SyncResult{MobileID: m, EncryptionKeys: keys}, nil
}

// Challenge issues a one-time authentication challenge.
func (s *Service) Challenge(ctx context.Context) (id string, challenge []byte, expires time.Time, err error) {
	challenge = make([]byte, 32)
	rand.Read(challenge)
	id, expires = newSecret(), s.now().Add(ChallengeTTL)
	if err := s.Store.CreateChallenge(ctx, id, challenge, expires); err != nil {
		return "", nil, time.Time{}, err
	}
	return id, challenge, expires, nil
}

// Authenticated is who answered a challenge.
type Authenticated struct {
	User     *lanyard.User
	MobileID *lanyard.MobileID
}

// VerifyChallenge checks an answer to a challenge: the signature by the
// authentication certificate's key, the certificate valid in the CA, its
// mobile ID active and its user active.
func (s *Service) VerifyChallenge(ctx context.Context, challengeID string, certDER, signature []byte) (*Authenticated, error) {
	challenge, err := s.Store.ClaimChallenge(ctx, challengeID)
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		return nil, lanyard.Errorf(lanyard.EUNAUTHORIZED, "The challenge is unknown or was answered already.")
	} else if err != nil {
		return nil, err
	}
	presented, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The certificate is not a DER X.509 certificate.")
	}
	serial := pki.SerialString(presented.SerialNumber)
	cert, parsed, err := s.validCertificate(ctx, serial)
	if err != nil {
		return nil, err
	}
	if string(parsed.Raw) != string(presented.Raw) || cert.Usage != lanyard.UsageAuthentication {
		return nil, lanyard.Errorf(lanyard.EUNAUTHORIZED, "The certificate is not an authentication certificate of this server.")
	}
	if !signedBy(parsed, appclient.AuthPayload(s.Origin(), challengeID, base64.StdEncoding.EncodeToString(challenge)), signature) {
		return nil, lanyard.Errorf(lanyard.EUNAUTHORIZED, "The signature does not verify.")
	}
	m, err := s.Store.FindMobileIDBySerial(ctx, serial)
	if err != nil {
		return nil, lanyard.Errorf(lanyard.EUNAUTHORIZED, "The certificate belongs to no mobile ID.")
	}
	if m.State != lanyard.MobileIDActive {
		return nil, lanyard.Errorf(lanyard.EUSERSTATE, "The mobile ID is %s.", m.State)
	}
	u, err := s.activeUser(ctx, m.UserID)
	if err != nil {
		return nil, err
	}
	return &Authenticated{User: u, MobileID: m}, nil
}

// signedBy reports whether sig is an ECDSA signature over SHA-256 of
// payload by the key of cert, as devices sign with their authentication key.
func signedBy(cert *x509.Certificate, payload, sig []byte) bool {
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	digest := sha256.Sum256(payload)
	return ok && ecdsa.VerifyASN1(pub, digest[:], sig)
}
