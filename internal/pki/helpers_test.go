package pki_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// env is a CA on a fresh database with two users.
type env struct {
	db    *store.DB
	st    *store.PKIStore
	ca    *pki.CA
	cfg   pki.Config
	alice *lanyard.User
	bob   *lanyard.User
}

var actor = lanyard.Actor{Username: "operator", Addr: "127.0.0.1"}

// openDB opens and migrates the database at dsn.
func openDB(tb testing.TB, dsn string) *store.DB { return testenv.OpenDB(tb, dsn) }

// openInstance opens e's CA again as another instance would: its own
// database handle on dsn, the same master key and public URL, time from
// now (nil: the clock). It is closed when the test ends.
func (e *env) openInstance(tb testing.TB, dsn string, now func() time.Time) *pki.CA {
	tb.Helper()
	ca, err := pki.Open(context.Background(), store.NewPKIStore(openDB(tb, dsn)), pki.Config{
		PublicURL: e.cfg.PublicURL, MasterKeyFile: filepath.Join(e.cfg.DataDir, "master.key"), Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(ca.Close)
	return ca
}

// newEnv creates the CA on dsn with cfg (PublicURL and DataDir defaulted).
func newEnv(tb testing.TB, dsn string, cfg pki.Config) *env {
	tb.Helper()
	ctx := context.Background()
	e := &env{db: openDB(tb, dsn)}
	e.st = store.NewPKIStore(e.db)
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://127.0.0.1:8080"
	}
	if cfg.DataDir == "" && cfg.MasterKeyFile == "" {
		cfg.DataDir = tb.TempDir()
	}
	e.cfg = cfg
	users := store.NewUserService(e.db, password.Params{Memory: 64, Time: 1, Threads: 1})
	for _, u := range []*lanyard.User{
		{Username: "alice", Email: "alice@example.com", CommonName: "Alice Example"},
		{Username: "bob", Email: "bob@example.org", CommonName: "Bob Example"},
	} {
		if err := users.CreateUser(ctx, lanyard.CLIActor, u, ""); err != nil {
			tb.Fatalf("create user: %v", err)
		}
	}
	e.alice, _ = users.FindUserByUsername(ctx, "alice")
	e.bob, _ = users.FindUserByUsername(ctx, "bob")
	ca, err := pki.Open(ctx, e.st, cfg)
	if err != nil {
		tb.Fatalf("open CA: %v", err)
	}
	e.ca = ca
	tb.Cleanup(ca.Close) // before the database closes: cleanups run last first
	return e
}

// newKey makes a P-256 device key.
func newKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// makeCSR returns a DER PKCS#10 request signed by key for the given subject
// and SAN email addresses.
func makeCSR(tb testing.TB, key crypto.Signer, subject pkix.Name, emails ...string) []byte {
	tb.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject, EmailAddresses: emails}, key)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// issue issues a certificate of usage for u from a fresh P-256 key.
func (e *env) issue(tb testing.TB, u *lanyard.User, usage lanyard.CertificateUsage) (*lanyard.Certificate, *ecdsa.PrivateKey) {
	tb.Helper()
	key := newKey(tb)
	c, err := e.ca.IssueCertificate(context.Background(), actor, u, usage, makeCSR(tb, key, pkix.Name{CommonName: "ignored"}), 2)
	if err != nil {
		tb.Fatalf("issue %s: %v", usage, err)
	}
	return c, key
}

// writePEM writes PEM blocks of the given type to a file in dir.
func writePEM(tb testing.TB, dir, name, typ string, ders ...[]byte) string {
	tb.Helper()
	var b []byte
	for _, d := range ders {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d})...)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

func mustParse(tb testing.TB, der []byte) *x509.Certificate {
	tb.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// runOpenSSL runs openssl and returns its output and error, for commands
// expected to fail.
func runOpenSSL(openssl string, args ...string) (string, error) {
	out, err := exec.Command(openssl, args...).CombinedOutput()
	return string(out), err
}

func pkixName() pkix.Name { return pkix.Name{CommonName: "device"} }

// testClock is a time the test sets, read safely by the CA's background
// work (CRLs are published from goroutines of their own).
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{now: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
