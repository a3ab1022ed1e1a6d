package mobileid

import (
	"bytes"
	"context"
	"crypto/x509"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
)

// enrolledAlready answers an enrollment whose code was used already by the
// same app: when the code's mobile ID is active on the same transport key
// with certificates for the same keys, the app lost the answer (a dropped
// connection, a server that stopped after the commit) and gets the same
// result again. Any other use of a used code gets refused as notFound.
func (s *Service) enrolledAlready(ctx context.Context, codeHash []byte, req EnrollRequest, notFound error) (*EnrollResult, error) {
	e, err := s.Store.FindEnrollmentByUsedCode(ctx, codeHash)
	if err != nil {
		return nil, notFound
	}
	m, err := s.Store.FindMobileID(ctx, e.MobileID)
	if err != nil || m.State != lanyard.MobileIDActive || !bytes.Equal(m.TransportKey, req.TransportKey) {
		return nil, notFound
	}
	u, err := s.Users.FindUserByID(ctx, m.UserID)
	if err != nil {
		return nil, err
	}
	actor := lanyard.Actor{Username: "app:" + u.Username, Addr: "device " + req.DeviceName}
	res := &EnrollResult{MobileID: m, Chain: []*x509.Certificate{s.CA.Issuer(), s.CA.Root()}}
	// In the order of the first answer: the process's usages.
	own := ownCertificates(m)
	for _, usage := range e.Usages {
		for _, mc := range own {
			if mc.Usage != usage {
				continue
			}
			c, err := s.Certs.FindCertificateBySerial(ctx, mc.Serial)
			if err != nil {
				return nil, err
			}
			if usage != lanyard.UsageEncryption && !sameKey(c, req.CSRs[usage], u) {
				return nil, notFound
			}
			res.Certificates = append(res.Certificates, c)
		}
	}
	keys, err := s.deliveredKeys(ctx, actor, &lanyard.MobileID{PublicID: m.PublicID, UserID: m.UserID, TransportKey: m.TransportKey,
		Certificates: own})
	if err != nil {
		return nil, err
	}
	res.EncryptionKeys = keys
	s.Logger.Info("enrollment asked again with the same code and keys; answered as before", "mobile_id", m.PublicID)
	return res, nil
}

// sameKey reports whether the certificate c is for the key of the PKCS#10
// request csr (DER or PEM) of user u.
func sameKey(c *lanyard.Certificate, csr []byte, u *lanyard.User) bool {
	cert, err := x509.ParseCertificate(c.DER)
	if err != nil {
		return false
	}
	req, err := pki.ParseCSR(csr, u)
	if err != nil {
		return false
	}
	return bytes.Equal(cert.RawSubjectPublicKeyInfo, req.RawSubjectPublicKeyInfo)
}

// ownCertificates lists the certificates issued to m, not recovered onto it.
func ownCertificates(m *lanyard.MobileID) []lanyard.MobileIDCertificate {
	var own []lanyard.MobileIDCertificate
	for _, mc := range m.Certificates {
		if !mc.Recovered {
			own = append(own, mc)
		}
	}
	return own
}
