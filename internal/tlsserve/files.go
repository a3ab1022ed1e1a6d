package tlsserve

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"
)

// ReloadInterval is how often FileCertificate looks at its files; new
// connections get a replaced certificate within this time.
const ReloadInterval = 2 * time.Second

// FileCertificate serves the certificate of a pair of PEM files and picks
// up new files while it runs. The files are read again at every check and
// compared byte for byte, so a file rewritten in place, a new file renamed
// over the old, and a symlink pointed elsewhere are all noticed. A pair that
// does not load (a key that does not match, as when only one file has been
// replaced so far) is ignored and the certificate served before is kept.
type FileCertificate struct {
	certFile, keyFile string
	logger            *slog.Logger

	cert              atomic.Pointer[tls.Certificate]
	lastCert, lastKey []byte
	lastErr           string
}

// LoadFiles reads the pair once; an unusable pair is an error here, since
// there is no older certificate to keep.
func LoadFiles(certFile, keyFile string, logger *slog.Logger) (*FileCertificate, error) {
	f := &FileCertificate{certFile: certFile, keyFile: keyFile, logger: logger}
	if _, err := f.reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// GetCertificate is a tls.Config.GetCertificate.
func (f *FileCertificate) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return f.cert.Load(), nil
}

// Leaf returns the certificate being served.
func (f *FileCertificate) Leaf() *x509.Certificate { return f.cert.Load().Leaf }

// Watch checks the files every ReloadInterval until ctx ends.
func (f *FileCertificate) Watch(ctx context.Context) {
	t := time.NewTicker(ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			changed, err := f.reload()
			switch {
			case err != nil && err.Error() != f.lastErr:
				f.lastErr = err.Error()
				f.logger.Warn("TLS certificate files not loaded; the old certificate stays", "err", err)
			case changed:
				f.lastErr = ""
				f.logger.Info("TLS certificate reloaded", "subject", f.Leaf().Subject.String(), "not_after", f.Leaf().NotAfter)
			}
		}
	}
}

// reload loads the files if they differ from the last pair loaded.
func (f *FileCertificate) reload() (changed bool, err error) {
	certPEM, err := os.ReadFile(f.certFile)
	if err != nil {
		return false, fmt.Errorf("--tls-cert: %w", err)
	}
	keyPEM, err := os.ReadFile(f.keyFile)
	if err != nil {
		return false, fmt.Errorf("--tls-key: %w", err)
	}
	if bytes.Equal(certPEM, f.lastCert) && bytes.Equal(keyPEM, f.lastKey) {
		return false, nil
	}
	// X509KeyPair reads keys in PKCS#8, SEC1 and PKCS#1 and refuses a key
	// that does not belong to the first certificate, the leaf.
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return false, fmt.Errorf("--tls-cert and --tls-key: %w", err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return false, fmt.Errorf("--tls-cert: %w", err)
		}
	}
	f.cert.Store(&c)
	f.lastCert, f.lastKey = certPEM, keyPEM
	return true, nil
}
