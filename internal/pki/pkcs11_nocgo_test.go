//go:build !cgo

package pki_test

import (
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/internal/pki"
)

// TestPKCS11WithoutCgo checks that a build without cgo says why it cannot
// use a token instead of failing obscurely.
func TestPKCS11WithoutCgo(t *testing.T) {
	_, err := pki.NewPKCS11Backend(pki.PKCS11Config{Module: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "t", PIN: "1"})
	if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=1") {
		t.Fatalf("got %v", err)
	}
}
