package tlsserve_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/secret"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"github.com/lanyard-id/lanyard/internal/tlsserve"
	"golang.org/x/crypto/acme/autocert"
)

// TestCacheOrdersOnceACluster: of two instances on one database, one
// orders a missing or due certificate while the other waits for it; the
// account key and the challenges are not held up; an instance that
// stopped mid-order leaves the order to another after the claim's time.
func TestCacheOrdersOnceACluster(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := testenv.Context(t)
		db := testenv.OpenDB(t, dsn)
		box, err := secret.New([]byte(rand.Text()+rand.Text()), "acme cache")
		if err != nil {
			t.Fatal(err)
		}
		const domain = "id.lanyard.test"
		cache := func(holder string) *tlsserve.Cache {
			return &tlsserve.Cache{Store: store.NewACMECache(db), Box: box, Domain: "ID.Lanyard.test.", Holder: holder,
				OrderTTL: time.Second, Poll: 10 * time.Millisecond}
		}
		a, b := cache("a"), cache("b")
		type got struct {
			entry []byte
			err   error
		}
		wait := func(c *tlsserve.Cache) chan got {
			ch := make(chan got, 1)
			go func() {
				e, err := c.Get(ctx, domain)
				ch <- got{e, err}
			}()
			return ch
		}
		stillWaiting := func(ch chan got, what string) {
			t.Helper()
			select {
			case g := <-ch:
				t.Fatalf("%s: the other instance did not wait: %q, %v", what, g.entry, g.err)
			case <-time.After(300 * time.Millisecond):
			}
		}
		receive := func(ch chan got, want []byte, what string) {
			t.Helper()
			select {
			case g := <-ch:
				if g.err != nil || !bytes.Equal(g.entry, want) {
					t.Fatalf("%s: %v, or not the stored certificate", what, g.err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: still waiting", what)
			}
		}

		// Nothing stored: a claims the order, and b waits for a's
		// certificate.
		if _, err := a.Get(ctx, domain); !errors.Is(err, autocert.ErrCacheMiss) {
			t.Fatalf("a's first look: %v", err)
		}
		bGot := wait(b)
		stillWaiting(bGot, "a missing certificate")
		// The account key and challenge answers are no orders.
		for _, c := range []*tlsserve.Cache{a, b} {
			if _, err := c.Get(ctx, "acme_account+key"); !errors.Is(err, autocert.ErrCacheMiss) {
				t.Fatalf("the account key: %v", err)
			}
		}
		first := cacheEntry(t, 90*24*time.Hour)
		if err := a.Put(ctx, domain, first); err != nil {
			t.Fatal(err)
		}
		receive(bGot, first, "the certificate a got")
		if e, err := b.Get(ctx, domain); err != nil || !bytes.Equal(e, first) {
			t.Fatalf("a fresh certificate: %v", err)
		}

		// Due for renewal: b claims the renewal and sees the certificate
		// it renews (as often as it asks), and a waits for the new one.
		due := cacheEntry(t, 10*24*time.Hour)
		if err := a.Put(ctx, domain, due); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if e, err := b.Get(ctx, domain); err != nil || !bytes.Equal(e, due) {
				t.Fatalf("b renewing: %v", err)
			}
		}
		aGot := wait(a)
		stillWaiting(aGot, "a certificate due for renewal")
		renewed := cacheEntry(t, 90*24*time.Hour)
		if err := b.Put(ctx, domain, renewed); err != nil {
			t.Fatal(err)
		}
		receive(aGot, renewed, "the certificate b renewed")

		// An instance that stops mid-order: its claim runs out, and the
		// other orders.
		if err := a.Delete(ctx, domain); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Get(ctx, domain); !errors.Is(err, autocert.ErrCacheMiss) {
			t.Fatalf("a's look after the delete: %v", err)
		}
		start := time.Now()
		if _, err := b.Get(ctx, domain); !errors.Is(err, autocert.ErrCacheMiss) {
			t.Fatalf("b after a's claim ran out: %v", err)
		}
		if waited := time.Since(start); waited < 500*time.Millisecond {
			t.Fatalf("b took the order after %s, while a's claim ran", waited)
		}

		// A waiting instance gives up with its context.
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := a.Get(short, domain); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a waiting past its context: %v", err)
		}
	})
}

// cacheEntry is what autocert stores for a certificate: its key, then the
// chain, in PEM; the certificate expires in validFor.
func cacheEntry(t *testing.T, validFor time.Duration) []byte {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "id.lanyard.test"}, DNSNames: []string{"id.lanyard.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(validFor),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return append(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
}
