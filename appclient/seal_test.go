package appclient_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"testing"

	"github.com/lanyard-id/lanyard/appclient"
)

func TestSealOpenKey(t *testing.T) {
	device, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ecdh.X25519().GenerateKey(rand.Reader)
	pkcs8 := []byte("PKCS #8 DER of a private key")
	sealed, err := appclient.SealKey(device.PublicKey(), "1f2e3d", pkcs8)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != 32+len(pkcs8)+16 {
		t.Errorf("sealed key is %d bytes, want enc (32) + ciphertext (%d) + tag (16)", len(sealed), len(pkcs8))
	}

	t.Run("round trip", func(t *testing.T) {
		got, err := appclient.OpenSealedKey(device, "1f2e3d", sealed)
		if err != nil || !bytes.Equal(got, pkcs8) {
			t.Fatalf("OpenSealedKey = %q, %v", got, err)
		}
		// The serial is hex, so its case does not matter.
		if _, err := appclient.OpenSealedKey(device, "1F2E3D", sealed); err != nil {
			t.Errorf("upper-case serial: %v", err)
		}
	})
	t.Run("other serial", func(t *testing.T) {
		if _, err := appclient.OpenSealedKey(device, "1f2e3e", sealed); err == nil {
			t.Error("a key sealed for one serial opened under another")
		}
	})
	t.Run("other transport key", func(t *testing.T) {
		if _, err := appclient.OpenSealedKey(other, "1f2e3d", sealed); err == nil {
			t.Error("a key sealed to one device opened with another device's key")
		}
	})
	t.Run("altered", func(t *testing.T) {
		bad := bytes.Clone(sealed)
		bad[len(bad)-1] ^= 1
		if _, err := appclient.OpenSealedKey(device, "1f2e3d", bad); err == nil {
			t.Error("an altered sealed key opened")
		}
		if _, err := appclient.OpenSealedKey(device, "1f2e3d", sealed[:20]); err == nil {
			t.Error("a truncated sealed key opened")
		}
	})
	t.Run("not X25519", func(t *testing.T) {
		p256, _ := ecdh.P256().GenerateKey(rand.Reader)
		if _, err := appclient.SealKey(p256.PublicKey(), "1", pkcs8); err == nil {
			t.Error("SealKey accepted a P-256 transport key")
		}
		if _, err := appclient.OpenSealedKey(p256, "1", sealed); err == nil {
			t.Error("OpenSealedKey accepted a P-256 transport key")
		}
		if _, err := appclient.SealKey(nil, "1", pkcs8); err == nil {
			t.Error("SealKey accepted no transport key")
		}
	})
}
