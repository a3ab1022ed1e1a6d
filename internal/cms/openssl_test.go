package cms_test

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lanyard-id/lanyard/internal/testenv"
)

// requireOpenSSL skips the test if OpenSSL is not installed, and fails it
// when every service is required, as in CI.
func requireOpenSSL(tb testing.TB) {
	tb.Helper()
	testenv.OpenSSL(tb)
}

// openssl runs OpenSSL in dir and returns its standard output; the error
// carries standard error.
func openssl(tb testing.TB, dir string, args ...string) ([]byte, error) {
	tb.Helper()
	cmd := exec.Command(testenv.OpenSSL(tb), args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		tb.Logf("openssl %v: %s", args, ee.Stderr)
	}
	return out, err
}

// writeFile writes data to name in dir and returns its path.
func writeFile(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// certPEM encodes certificates as a PEM bundle.
func certPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// keyPEM encodes a private key as PKCS #8 PEM.
func keyPEM(tb testing.TB, key any) []byte {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// readFile returns the contents of name in dir.
func readFile(tb testing.TB, dir, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
