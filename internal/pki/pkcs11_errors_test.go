//go:build cgo

package pki_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestPKCS11Errors checks that what an operator gets wrong about the token
// is named in one plain line.
func TestPKCS11Errors(t *testing.T) {
	token := newSoftHSM(t)
	for _, tc := range []struct {
		name string
		edit func(c *pki.PKCS11Config)
		want string
	}{
		{"wrong PIN", func(c *pki.PKCS11Config) { c.PIN = "0000" }, `the PIN for PKCS#11 token "lanyard-test" is wrong`},
		{"missing token", func(c *pki.PKCS11Config) { c.TokenLabel = "no-such-token" },
			`no PKCS#11 token labelled "no-such-token" in ` + token.Module},
		{"missing module", func(c *pki.PKCS11Config) { c.Module = "/nonexistent/libpkcs11.so" },
			"PKCS#11 module: stat /nonexistent/libpkcs11.so: no such file or directory"},
		{"no PIN", func(c *pki.PKCS11Config) { c.PIN = "" }, "no PIN given for the PKCS#11 token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := token
			tc.edit(&cfg)
			b, err := pki.NewPKCS11Backend(cfg)
			if err == nil {
				b.Close()
				t.Fatal("opened")
			}
			if err.Error() != tc.want {
				t.Fatalf("got %q, want %q", err, tc.want)
			}
		})
	}

	// The right PIN still works after a wrong one.
	b := openPKCS11(t, token)
	ctx := context.Background()
	if _, err := b.CreateKey(ctx, "k1", pki.ECDSAP384); err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := b.CreateKey(ctx, "k1", pki.ECDSAP256); lanyard.ErrorCode(err) != lanyard.ECONFLICT {
		t.Fatalf("a second key under one label: %v", err)
	}
	if _, err := b.CreateKey(ctx, "k2", "dsa-1024"); lanyard.ErrorCode(err) != lanyard.EINVALID {
		t.Fatalf("unknown algorithm: %v", err)
	}
	if err := b.DeleteKey(ctx, "k1"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := b.LoadKey(ctx, "k1"); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		t.Fatalf("load of a deleted key: %v", err)
	}
	if err := b.DeleteKey(ctx, "k1"); err != nil {
		t.Fatalf("delete of a missing key: %v", err)
	}
}

// TestBackendMismatch opens a CA with the other key backend than it was
// created with: both ways it refuses with one line that says what to do,
// and makes no keys.
func TestBackendMismatch(t *testing.T) {
	token := newSoftHSM(t)
	ctx := context.Background()
	check := func(t *testing.T, err error, want string) {
		t.Helper()
		var mismatch *pki.BackendMismatchError
		if !errors.As(err, &mismatch) || err.Error() != want {
			t.Fatalf("got %v, want %q", err, want)
		}
	}

	t.Run("pkcs11 CA, software backend", func(t *testing.T) {
		dsn := testenv.DSN(t, "sqlite")
		e := newEnv(t, dsn, pki.Config{Backend: openPKCS11(t, token)})
		_, err := pki.Open(ctx, e.st, pki.Config{PublicURL: e.cfg.PublicURL, DataDir: e.cfg.DataDir})
		check(t, err, "the CA keys are in a PKCS#11 token; start with --ca-backend pkcs11 and its settings")
		if strings.Contains(dumpSQLite(t, dsn), "ca_keys:") {
			t.Error("the software backend made keys")
		}
	})

	t.Run("software CA, pkcs11 backend", func(t *testing.T) {
		e := newEnv(t, testenv.DSN(t, "sqlite"), pki.Config{})
		b := openPKCS11(t, token)
		before := countKeys(t, token)
		_, err := pki.Open(ctx, e.st, pki.Config{PublicURL: e.cfg.PublicURL, DataDir: e.cfg.DataDir, Backend: b})
		check(t, err, "the CA keys are sealed in the database, not in a PKCS#11 token; start with --ca-backend software")
		if after := countKeys(t, token); after != before {
			t.Errorf("the token held %d key pairs, now %d", before, after)
		}
	})
}

// countKeys counts the key pairs in the token.
func countKeys(t *testing.T, token pki.PKCS11Config) int {
	t.Helper()
	pairs, err := inspectToken(t, token).FindAllKeyPairs()
	if err != nil {
		t.Fatal(err)
	}
	return len(pairs)
}
