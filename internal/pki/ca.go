// Package pki is Lanyard's own certificate authority: a root CA and an
// issuing CA whose keys sit behind a KeyBackend, the certificate profiles of
// mobile IDs, issuance from PKCS#10 requests, an archive of server-made
// encryption keys, revocation and hold, and the CRL and OCSP responder that
// relying parties query. Its state lives in the database through Store, so
// every instance of a cluster is the same CA.
package pki

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/secret"
)

// Config says how to create or load the CA.
type Config struct {
	// PublicURL is the base URL relying parties reach Lanyard at; the CRL
	// and OCSP addresses in every certificate are built from it.
	PublicURL string
	// KeyAlgorithm is used when the CA is created (default ECDSA P-256). A
	// CA in the database keeps the algorithm it was created with.
	KeyAlgorithm KeyAlgorithm
	// Organization names the CA in its certificates (default "Lanyard").
	Organization string
	// Country is the optional ISO 3166 two-letter code put into the CA
	// subjects, as the CA/Browser Forum asks of CAs.
	Country string
	// MasterKeyFile holds the key-encryption key; empty means master.key in
	// DataDir, created on the first start.
	MasterKeyFile string
	DataDir       string
	// MasterKey, when set, is the key-encryption key itself, read by the
	// caller with LoadMasterKey for the other keys it derives from it;
	// MasterKeyFile and DataDir are not read then.
	MasterKey []byte
	// Backend keeps the CA keys; nil means the software backend.
	Backend KeyBackend
	// CRLValidity is the time from a CRL's thisUpdate to its nextUpdate
	// (default one day). Callers refresh the CRL well before, e.g. hourly.
	CRLValidity time.Duration
	// OCSPCacheBytes bounds the memory the OCSP responses kept in memory
	// take (default 96 MiB, some hundred thousand certificates).
	OCSPCacheBytes int
	// OCSPNonceRate is how many OCSP requests with a nonce per second an
	// instance signs afresh (default 200); beyond it, or when negative,
	// they get the pre-signed response without the nonce (RFC 5019).
	OCSPNonceRate int
	// Now returns the current time (default time.Now); tests replace it.
	Now func() time.Time
}

// withDefaults fills the defaults and checks the fields.
func (c Config) withDefaults() (Config, error) {
	if c.KeyAlgorithm == "" {
		c.KeyAlgorithm = ECDSAP256
	}
	if c.Organization == "" {
		c.Organization = "Lanyard"
	}
	if c.CRLValidity <= 0 {
		c.CRLValidity = 24 * time.Hour
	}
	if c.OCSPCacheBytes <= 0 {
		c.OCSPCacheBytes = defaultOCSPCacheBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	u, err := url.Parse(c.PublicURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return c, lanyard.Errorf(lanyard.EINVALID, "The public URL %q must be an http or https URL.", c.PublicURL)
	case c.Country != "" && !countryRE.MatchString(c.Country):
		return c, lanyard.Errorf(lanyard.EINVALID, "The CA country %q must be a two-letter ISO 3166 code such as DE.", c.Country)
	case !c.KeyAlgorithm.Valid():
		return c, lanyard.Errorf(lanyard.EINVALID, "The CA key algorithm %q is not one of ecdsa-p256, ecdsa-p384, rsa-3072.", c.KeyAlgorithm)
	}
	return c, nil
}

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

// CA is Lanyard's certificate authority. It implements
// lanyard.CertificateService and serves the relying-party endpoints.
type CA struct {
	store       Store
	cfg         Config
	root        *x509.Certificate
	issuer      *x509.Certificate
	signer      crypto.Signer // the issuing CA's key
	recoveryKey []byte        // the key-recovery key, unsealed
	chainPEM    []byte
	responder   *responder
	ocspCache   *ocspCache
	presigned   *presignedOCSP // nil when the store keeps no responses
	crlMu       sync.Mutex     // one round of shard CRLs at a time per instance; the database orders instances
	completeMu  sync.Mutex     // one complete CRL at a time, apart from the shards, which never wait for it
	crlLoadMu   sync.Mutex     // one read of a CRL missing from memory at a time
	crl         crlSchedule
	crlCache    crlCache
}

var _ lanyard.CertificateService = (*CA)(nil)

// Open loads the CA from st, creating it on the first start, and makes sure
// a current CRL exists. It fails with ErrMasterKeyMismatch when the master
// key cannot decrypt the CA in the database.
func Open(ctx context.Context, st Store, cfg Config) (*CA, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	kek := cfg.MasterKey
	if kek == nil {
		if kek, err = loadMasterKey(cfg.MasterKeyFile, cfg.DataDir); err != nil {
			return nil, err
		}
	}
	if cfg.Backend == nil {
		cfg.Backend = NewSoftwareBackend(st, kek)
	}
	rec, err := st.FindCA(ctx)
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		rec, err = createCA(ctx, st, cfg, kek)
	}
	if err != nil {
		return nil, err
	}
	ca, err := load(ctx, st, cfg, kek, rec)
	if err != nil {
		return nil, err
	}
	if err := ca.RefreshCRLIfStale(ctx); err != nil {
		return nil, err
	}
	ca.startPresigned()
	return ca, nil
}

// load turns a CA record into a working CA.
func load(ctx context.Context, st Store, cfg Config, kek []byte, rec *CARecord) (*CA, error) {
	if rec.Backend != cfg.Backend.Name() {
		return nil, &BackendMismatchError{Stored: rec.Backend, Configured: cfg.Backend.Name()}
	}
	ca := &CA{store: st, cfg: cfg}
	var err error
	if ca.root, err = x509.ParseCertificate(rec.RootCert); err != nil {
		return nil, fmt.Errorf("parse root CA certificate: %w", err)
	}
	if ca.issuer, err = x509.ParseCertificate(rec.IssuingCert); err != nil {
		return nil, fmt.Errorf("parse issuing CA certificate: %w", err)
	}
	if ca.recoveryKey, err = secret.Open(kek, rec.RecoveryKey, recoveryKeyAD); errors.Is(err, secret.ErrOpen) {
		return nil, ErrMasterKeyMismatch
	} else if err != nil {
		return nil, err
	}
	if ca.signer, err = cfg.Backend.LoadKey(ctx, rec.IssuingKeyLabel); err != nil {
		return nil, err
	}
	if !samePublicKey(ca.signer, ca.issuer.PublicKey) {
		return nil, fmt.Errorf("the issuing CA key %s does not match its certificate", rec.IssuingKeyLabel)
	}
	if err := checkSigner(ca.signer, ca.issuer); err != nil {
		return nil, fmt.Errorf("the issuing CA key %s: %w", rec.IssuingKeyLabel, err)
	}
	// A quarter of the budget for the responses signed when first asked
	// (several certificates, SHA-256 CertIDs); the rest is for the
	// responses signed ahead (startPresigned).
	ca.ocspCache = newOCSPCache(cfg.OCSPCacheBytes / 4)
	ca.chainPEM = append(pemCert(ca.issuer.Raw), pemCert(ca.root.Raw)...)
	if ca.responder, err = newResponder(ca.issuer, ca.signer); err != nil {
		return nil, err
	}
	return ca, nil
}

// Root returns the root CA certificate.
func (ca *CA) Root() *x509.Certificate { return ca.root }

// Issuer returns the issuing CA certificate, which signs end-entity
// certificates, the CRL and OCSP responses.
func (ca *CA) Issuer() *x509.Certificate { return ca.issuer }

// ChainPEM returns the CA chain in PEM, issuing CA first, as
// "lanyard ca export" prints it and GET /pki/ca.pem serves it.
func (ca *CA) ChainPEM() []byte { return ca.chainPEM }

func (ca *CA) now() time.Time { return ca.cfg.Now().UTC() }
