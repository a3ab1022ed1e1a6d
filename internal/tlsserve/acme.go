package tlsserve

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard/internal/secret"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// CacheStore keeps the ACME client's files in the database, and which
// instance is ordering a certificate.
type CacheStore interface {
	Get(ctx context.Context, name string) (sealed []byte, found bool, err error)
	Put(ctx context.Context, name string, sealed []byte) error
	Delete(ctx context.Context, name string) error
	ClaimOrder(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	EndOrder(ctx context.Context, name, holder string) error
}

// renewBefore is how long before its expiry a certificate is renewed
// (autocert's default, set explicitly so that the cache agrees with it).
const renewBefore = 30 * 24 * time.Hour

// Defaults of Cache.OrderTTL and Cache.Poll. An instance renews its claim
// each time its client looks again, as after an order that failed.
const (
	defaultOrderTTL = 2 * time.Minute
	defaultPoll     = time.Second
)

// Cache is an autocert.Cache over the database: every instance of a cluster
// finds the account and the certificate the first one got, so they serve
// the same certificate and ask the CA once. Values hold private keys and
// are sealed under the master key before they reach the database.
//
// The ACME client orders a certificate when the cache has none for the
// domain or the one it has is due for renewal. So that a cluster orders
// once, not once per instance, the cache then claims the order in the
// database for this instance: with the claim it reports what it has, and
// the client orders; without, another instance is ordering, and the cache
// waits for that certificate and returns it. A claim ends when the
// certificate is stored, or OrderTTL after its instance last looked, as
// when it stopped.
type Cache struct {
	Store CacheStore
	Box   *secret.Box
	// Domain is the domain whose certificates are ordered once a cluster.
	Domain string
	// Holder names this instance in its claims.
	Holder string
	// OrderTTL bounds a claim; Poll is how often a waiting instance looks
	// for the certificate. Zero means 2 minutes and 1 second.
	OrderTTL, Poll time.Duration
	// Now is the time, for deciding whether a certificate is due; nil
	// means time.Now.
	Now func() time.Time
}

var _ autocert.Cache = (*Cache)(nil)

// Get implements autocert.Cache.
func (c *Cache) Get(ctx context.Context, name string) ([]byte, error) {
	if !c.ordered(name) {
		return c.get(ctx, name)
	}
	for {
		b, err := c.get(ctx, name)
		if err != nil && !errors.Is(err, autocert.ErrCacheMiss) {
			return nil, err
		}
		if err == nil && !c.due(b) {
			return b, nil
		}
		claimed, cerr := c.Store.ClaimOrder(ctx, name, c.Holder, cmp.Or(c.OrderTTL, defaultOrderTTL))
		if cerr != nil {
			return nil, cerr
		}
		if claimed {
			// What was read may predate the certificate of a claim that
			// ended just now: look again, now that no one else orders.
			b, err = c.get(ctx, name)
			if err != nil && !errors.Is(err, autocert.ErrCacheMiss) {
				return nil, err
			}
			if err == nil && !c.due(b) {
				return b, c.Store.EndOrder(ctx, name, c.Holder)
			}
			return b, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(cmp.Or(c.Poll, defaultPoll)):
		}
	}
}

func (c *Cache) get(ctx context.Context, name string) ([]byte, error) {
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

// ordered reports whether name holds a certificate of the domain (with
// its key; "+rsa" is the RSA one autocert keeps beside the ECDSA one), as
// against the account key and the challenges' answers.
func (c *Cache) ordered(name string) bool {
	d := strings.ToLower(strings.TrimSuffix(c.Domain, "."))
	return d != "" && (name == d || name == d+"+rsa")
}

// due reports whether the certificate in an autocert cache entry (the key,
// then the chain, in PEM) is to be renewed, or cannot be read.
func (c *Cache) due(entry []byte) bool {
	for rest := entry; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return true
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		leaf, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return true
		}
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		return !now().Before(leaf.NotAfter.Add(-renewBefore))
	}
}

// Put implements autocert.Cache. Storing a certificate ends this
// instance's claim on ordering it.
func (c *Cache) Put(ctx context.Context, name string, data []byte) error {
	sealed, err := c.Box.Seal(data, "acme "+name)
	if err != nil {
		return err
	}
	if err := c.Store.Put(ctx, name, sealed); err != nil {
		return err
	}
	if c.ordered(name) {
		return c.Store.EndOrder(ctx, name, c.Holder)
	}
	return nil
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
		Prompt:      autocert.AcceptTOS,
		RenewBefore: renewBefore,
		Cache:       cfg.Cache,
		HostPolicy:  onlyDomain(cfg.Domain),
		Email:       cfg.Email,
		Client:      client,
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
