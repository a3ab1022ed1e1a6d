package wallet_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/wallet"
)

// savedWallet returns the folder of a saved wallet holding one profile,
// and that profile.
func savedWallet(t *testing.T) (string, wallet.Profile) {
	t.Helper()
	dir := t.TempDir()
	w, err := wallet.Create(dir, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.AddProfile(newProfile(t, "MobileID Alice", "Smart ID"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Save(); err != nil {
		t.Fatal(err)
	}
	return dir, p
}

func TestFileHoldsNoSecrets(t *testing.T) {
	dir, p := savedWallet(t)
	raw := walletFile(t, dir)
	secrets := map[string][]byte{
		"PIN":                      []byte(testPIN),
		"device credential":        []byte(p.DeviceCredential),
		"signature key scalar":     p.SignatureKey.D.Bytes(),
		"authentication key bytes": mustBytes(p.AuthenticationKey.Bytes()),
		"transport key bytes":      p.TransportKey.Bytes(),
		"user ID":                  []byte(p.UserID),
	}
	for _, key := range []any{p.SignatureKey, p.AuthenticationKey, p.TransportKey, p.Certificates[2].Key, p.Certificates[3].Key} {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		secrets["PKCS #8 of a "+typeName(key)] = der
		secrets["base64 PKCS #8 of a "+typeName(key)] = []byte(base64.StdEncoding.EncodeToString(der)[:40])
		secrets["a 32-byte window of the PKCS #8 of a "+typeName(key)] = der[len(der)-32:]
	}
	for name, secret := range secrets {
		if bytes.Contains(raw, secret) {
			t.Errorf("the wallet file contains the %s", name)
		}
	}
}

func mustBytes(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

func TestTamperedFileIsDetected(t *testing.T) {
	dir, _ := savedWallet(t)
	path := filepath.Join(dir, wallet.FileName)
	original := walletFile(t, dir)
	header := bytes.IndexByte(original, '\n')
	tests := []struct {
		name   string
		tamper func([]byte) []byte
	}{
		{"ciphertext byte flipped", func(b []byte) []byte { b[len(b)-40] ^= 1; return b }},
		{"tag byte flipped", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-100] }},
		{"header only", func(b []byte) []byte { return b[:header+1] }},
		{"empty", func(b []byte) []byte { return nil }},
		{"nonce changed", func(b []byte) []byte { return bytes.Replace(b, []byte(`"nonce":"`), []byte(`"nonce":"AA`), 1) }},
		{"iterations raised", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"iterations":1`), []byte(`"iterations":2`), 1)
		}},
		{"memory absurd", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"memory_kib":64`), []byte(`"memory_kib":99999999999`), 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, tt.tamper(bytes.Clone(original)), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := wallet.Open(dir, testPIN)
			if err == nil {
				t.Fatal("a tampered wallet opened")
			}
			if code := lanyard.ErrorCode(err); code == lanyard.EINTERNAL {
				t.Errorf("error %v is not a user-facing error", err)
			}
			t.Logf("%s", lanyard.ErrorMessage(err))
		})
	}
	// A tampered ciphertext is not reported as a wrong PIN.
	b := bytes.Clone(original)
	b[len(b)-40] ^= 1
	os.WriteFile(path, b, 0o600)
	if _, err := wallet.Open(dir, testPIN); errors.Is(err, wallet.ErrWrongPIN) {
		t.Error("a damaged file was reported as a wrong PIN")
	}
}

func TestSavesLeaveOneFile(t *testing.T) {
	dir, _ := savedWallet(t)
	w, err := wallet.Open(dir, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	first := walletFile(t, dir)
	for range 3 {
		if err := w.Save(); err != nil {
			t.Fatal(err)
		}
	}
	if bytes.Equal(first, walletFile(t, dir)) {
		t.Error("saving twice wrote the same bytes: the nonce was reused")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the wallet folder holds %d entries after saves, want 1", len(entries))
	}
}

func TestDefaultKDFIsSound(t *testing.T) {
	d := packageDefaultKDF
	if d.Memory < 19*1024 || d.Time < 2 || d.Threads < 1 || (d.Memory < 46*1024 && d.Time < 3) {
		t.Errorf("DefaultKDF %+v is weaker than OWASP's argon2id minimum", d)
	}
	saved := wallet.DefaultKDF
	t.Cleanup(func() { wallet.DefaultKDF = saved })
	wallet.DefaultKDF = d
	if testing.Short() {
		t.Skip("argon2id with 64 MiB is slow")
	}
	dir := t.TempDir()
	if _, err := wallet.Create(dir, testPIN); err != nil {
		t.Fatal(err)
	}
	if _, err := wallet.Open(dir, testPIN); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`"memory_kib":%d,"iterations":%d,"threads":%d`, d.Memory, d.Time, d.Threads)
	if !bytes.Contains(walletFile(t, dir), []byte(want)) {
		t.Errorf("header does not record the parameters: %s", walletFile(t, dir)[:200])
	}
}
