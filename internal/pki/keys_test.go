package pki_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestNoKeyInClear dumps the database and the data folder and looks for
// every private key the test knows: both CA keys and an archived key, as
// PKCS#8 DER and as their bare secret numbers.
func TestNoKeyInClear(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn, pki.Config{})
		_, archived, err := e.ca.IssueEncryptionCertificate(ctx, actor, e.alice, 2048, 1)
		if err != nil {
			t.Fatal(err)
		}
		kek := readMasterKey(t, filepath.Join(e.cfg.DataDir, "master.key"))
		rec, err := e.st.FindCA(ctx)
		if err != nil {
			t.Fatal(err)
		}
		backend := pki.NewSoftwareBackend(e.st, kek)
		secrets := map[string][]byte{"master key": kek}
		for _, k := range []struct {
			name string
			key  crypto.Signer
		}{{"archived key", archived}, {"root CA key", loadKey(t, backend, rec.RootKeyLabel)}, {"issuing CA key", loadKey(t, backend, rec.IssuingKeyLabel)}} {
			der, _ := x509.MarshalPKCS8PrivateKey(k.key)
			secrets[k.name+" (PKCS#8)"] = der
			switch key := k.key.(type) {
			case *ecdsa.PrivateKey:
				d, _ := key.Bytes()
				secrets[k.name+" (scalar)"] = d
			case *rsa.PrivateKey:
				secrets[k.name+" (prime)"] = key.Primes[0].Bytes()
			}
		}
		if !samePublic(e.ca.Issuer().PublicKey, secrets["issuing CA key (PKCS#8)"]) {
			t.Fatal("the loaded issuing key does not match the issuing CA")
		}
		dump := dumpDatabase(t, dsn)
		if len(dump) < 1000 || !bytes.Contains(dump, []byte(hex.EncodeToString(e.ca.Issuer().Raw[:40]))) {
			t.Fatalf("the dump (%d bytes) does not hold the issuing CA certificate; it would prove nothing", len(dump))
		}
		files := readTree(t, e.cfg.DataDir)
		if strings.HasPrefix(dsn, "/") {
			files = append(files, readTree(t, filepath.Dir(dsn))...)
		}
		for name, secret := range secrets {
			if bytes.Contains(dump, []byte(hex.EncodeToString(secret))) {
				t.Errorf("the %s is in clear in the database", name)
			}
			if name != "master key" && bytes.Contains(files, secret) {
				t.Errorf("the %s is in clear in the data folder", name)
			}
		}
	})
}

// dumpDatabase returns a text dump of the database with binary columns in
// hexadecimal: pg_dump for PostgreSQL, the SQLite file, its journal and
// every table for SQLite.
func dumpDatabase(t *testing.T, dsn string) []byte {
	t.Helper()
	if !store.IsPostgresURL(dsn) {
		raw := readTree(t, filepath.Dir(dsn))
		return []byte(hex.EncodeToString(raw))
	}
	u, _ := url.Parse(dsn)
	schema := u.Query().Get("search_path")
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	out, err := exec.Command("pg_dump", "--data-only", "--schema="+schema, u.String()).Output()
	if err != nil {
		testenv.Unavailable(t, "pg_dump: %v", err)
	}
	return bytes.ToLower(bytes.ReplaceAll(out, []byte(`\x`), nil))
}

// readTree concatenates every file under dir.
func readTree(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			all = append(all, b...)
		}
		return nil
	})
	return all
}

func readMasterKey(t *testing.T, file string) []byte {
	t.Helper()
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("master key file %s: %v, mode %v", file, err, st.Mode())
	}
	b, _ := os.ReadFile(file)
	kek, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(kek) != 32 {
		t.Fatalf("master key: %v, %d bytes", err, len(kek))
	}
	return kek
}

func loadKey(t *testing.T, b pki.KeyBackend, label string) crypto.Signer {
	t.Helper()
	k, err := b.LoadKey(context.Background(), label)
	if err != nil {
		t.Fatalf("load key %s: %v", label, err)
	}
	return k
}

func samePublic(pub crypto.PublicKey, pkcs8 []byte) bool {
	k, err := x509.ParsePKCS8PrivateKey(pkcs8)
	return err == nil && k.(crypto.Signer).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub)
}

// TestMasterKeyMismatch starts a second instance with another master key:
// it must refuse with the one clear line, and the right key must still work.
func TestMasterKeyMismatch(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn, pki.Config{})
		other := filepath.Join(t.TempDir(), "other.key")
		os.WriteFile(other, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
		_, err := pki.Open(ctx, e.st, pki.Config{PublicURL: "http://localhost", MasterKeyFile: other})
		if !errors.Is(err, pki.ErrMasterKeyMismatch) ||
			err.Error() != "the master key does not match the CA in the database; give every instance the same master key file" {
			t.Fatalf("got %v", err)
		}
		again, err := pki.Open(ctx, e.st, pki.Config{PublicURL: "http://localhost",
			MasterKeyFile: filepath.Join(e.cfg.DataDir, "master.key")})
		if err != nil || !again.Root().Equal(e.ca.Root()) {
			t.Fatalf("reopen with the right key: %v", err)
		}
		bad := filepath.Join(t.TempDir(), "short.key")
		os.WriteFile(bad, []byte("too short"), 0o600)
		if _, err := pki.Open(ctx, e.st, pki.Config{PublicURL: "http://localhost", MasterKeyFile: bad}); err == nil {
			t.Fatal("a master key file of 9 bytes was accepted")
		}
	})
}

// TestConcurrentOpen starts four instances on one fresh database at once,
// as a cluster's first start may: they must all end with the same CA.
func TestConcurrentOpen(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		openDB(t, dsn) // migrate once, as the server does before the CA
		dir := t.TempDir()
		cas := make([]*pki.CA, 4)
		var wg sync.WaitGroup
		for i := range cas {
			wg.Go(func() {
				db := openDB(t, dsn)
				ca, err := pki.Open(context.Background(), store.NewPKIStore(db), pki.Config{PublicURL: "http://localhost", DataDir: dir})
				if err != nil {
					t.Errorf("instance %d: %v", i, err)
				}
				cas[i] = ca
			})
		}
		wg.Wait()
		for i, ca := range cas {
			if ca != nil && (!ca.Root().Equal(cas[0].Root()) || !ca.Issuer().Equal(cas[0].Issuer())) {
				t.Errorf("instance %d has another CA", i)
			}
		}
		events, _ := openDB(t, dsn).FindAuditEvents(context.Background(), lanyard.AuditFilter{Action: "ca.create"})
		if len(events) != 1 {
			t.Errorf("%d ca.create events", len(events))
		}
	})
}
