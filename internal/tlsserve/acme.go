package tlsserve

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/lanyard-id/lanyard/internal/secret"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// CacheStore keeps the ACME client's files in the database.
type CacheStore interface {
	Get(ctx context.Context, name string) (sealed []byte, found bool, err error)
	Put(ctx context.Context, name string, sealed []byte) error
	Delete(ctx context.Context, name string) error
}

// Cache is an autocert.Cache over the database: every instance of a cluster
// finds the account and the certificate the first one got, so they serve
// the same certificate and ask the CA once. Values hold private keys and
// are sealed under the master key before they reach the database.
type Cache struct {
	Store CacheStore
	Box   *secret.Box
}

var _ autocert.Cache = (*Cache)(nil)

// Get implements autocert.Cache.
func (c *Cache) Get(ctx context.Context, name string) ([]byte, error) {
	sealed, found, err := c.Store.Get(ctx, name)
	if err != nil {
		return nil, err
	} else if !found {
		return nil, autocert.ErrCacheMiss
	}
	b, err := c.Box.Open(sealed, "acme "+name)
	if err != nil {
		return nil, fmt.Errorf("ACME cache %s: %w", name, err)
	}
	return b, nil
}

// Put implements autocert.Cache.
func (c *Cache) Put(ctx context.Context, name string, data []byte) error {
	sealed, err := c.Box.Seal(data, "acme "+name)
	if err != nil {
		return err
	}
	return c.Store.Put(ctx, name, sealed)
}

// Delete implements autocert.Cache.
func (c *Cache) Delete(ctx context.Context, name string) error { return c.Store.Delete(ctx, name) }

// ACMEConfig says what certificate to get from which ACME CA.
type ACMEConfig struct {
	Domain       string
	DirectoryURL string
	Email        string
	Cache        autocert.Cache
	// HTTPClient talks to the ACME CA; nil is http.DefaultClient. Tests
	// set one that trusts their own CA.
	HTTPClient *http.Client
}

// ACME gets and renews the certificate of one domain. Its TLSConfig answers
// TLS-ALPN-01 challenges on the HTTPS port; HTTPHandler answers HTTP-01 on
// the plain-HTTP port.
type ACME struct {
	m *autocert.Manager
}

// NewACME returns the ACME client of cfg. The certificate is requested at
// the first TLS handshake that names the domain.
func NewACME(cfg ACMEConfig) *ACME {
	client := &acme.Client{DirectoryURL: cfg.DirectoryURL, HTTPClient: cfg.HTTPClient}
	return &ACME{m: &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      cfg.Cache,
		HostPolicy: onlyDomain(cfg.Domain),
		Email:      cfg.Email,
		Client:     client,
	}}
}

// TLSConfig returns a TLS configuration that serves the domain's
// certificate and answers TLS-ALPN-01.
func (a *ACME) TLSConfig() *tls.Config { return a.m.TLSConfig() }

// HTTPHandler answers HTTP-01 challenges and passes every other request to
// fallback.
func (a *ACME) HTTPHandler(fallback http.Handler) http.Handler { return a.m.HTTPHandler(fallback) }

// onlyDomain lets the ACME client ask for the one domain. The host of an
// HTTP-01 request may carry the port of --listen-http, which is not part
// of the name.
func onlyDomain(domain string) autocert.HostPolicy {
	return func(_ context.Context, host string) error {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !strings.EqualFold(strings.TrimSuffix(host, "."), domain) {
			return fmt.Errorf("acme: %q is not --acme-domain", host)
		}
		return nil
	}
}
