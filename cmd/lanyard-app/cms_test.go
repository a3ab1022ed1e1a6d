package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lanyard-id/lanyard/internal/testenv"
	"github.com/lanyard-id/lanyard/internal/wallet"
)

func TestSignVerifiedByOpenSSL(t *testing.T) {
	openssl := testenv.OpenSSL(t)
	ca := newCA(t)
	dir, tmp := newWallet(t, ca), t.TempDir()
	pin := pinFile(t, testPIN)
	content := writeFile(t, "contract.txt", []byte("I agree.\r\nAlice\n"))
	sig := filepath.Join(tmp, "contract.p7s")

	r := runApp(t, "", "sign", "--in", content, "--out", sig, "--wallet", dir, "--pin-file", pin, "--profile", "MobileID Alice Example")
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("sign: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	caFile := writePEM(t, tmp, "ca.pem", ca.cert)
	testenv.Run(t, openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", content,
		"-CAfile", caFile, "-purpose", "smimesign", "-out", filepath.Join(tmp, "verified"))

	wantFailure(t, runApp(t, "", "--wallet", dir, "--pin-file", pin, "sign", "--in", content, "--out", sig, "--profile", "Bob"), 1, "no profile")
	wantFailure(t, runApp(t, "", "--wallet", dir, "--pin-file", pin, "sign", "--in", filepath.Join(tmp, "none"), "--out", sig), 1, "read the file to sign")
}

func TestDecryptOpenSSLMessages(t *testing.T) {
	openssl := testenv.OpenSSL(t)
	ca := newCA(t)
	dir, tmp := newWallet(t, ca), t.TempDir()
	pin := pinFile(t, testPIN)
	w, err := wallet.Open(dir, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	keys := w.DecryptionKeys()
	if len(keys) != 2 {
		t.Fatalf("wallet has %d decryption keys, want 2", len(keys))
	}
	current := writePEM(t, tmp, "current.pem", keys[0].Certificate)
	recovered := writePEM(t, tmp, "recovered.pem", keys[1].Certificate)
	plain := writeFile(t, "secret.bin", []byte("the secret\x00\xff\n"))

	tests := []struct {
		name, recipient string
		args            []string
	}{
		{"DER to the current key", current, []string{"-outform", "DER", "-aes256"}},
		{"PEM to the recovered key", recovered, []string{"-outform", "PEM", "-aes128"}},
		{"S/MIME with OAEP", current, []string{"-keyopt", "rsa_padding_mode:oaep"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := filepath.Join(t.TempDir(), "secret.p7m")
			// -keyopt applies to the -recip before it.
			args := []string{"cms", "-encrypt", "-binary", "-in", plain, "-out", msg, "-recip", tt.recipient}
			testenv.Run(t, openssl, append(args, tt.args...)...)
			out := filepath.Join(t.TempDir(), "secret.out")
			if r := runApp(t, "", "--wallet", dir, "--pin-file", pin, "decrypt", "--in", msg, "--out", out); r.code != 0 {
				t.Fatalf("decrypt: exit %d, stderr %q", r.code, r.stderr)
			}
			got, _ := os.ReadFile(out)
			if want, _ := os.ReadFile(plain); string(got) != string(want) {
				t.Errorf("decrypted %q, want %q", got, want)
			}
		})
	}

	t.Run("to someone else", func(t *testing.T) {
		other := writePEM(t, tmp, "other.pem", ca.certify(t, wallet.UsageEncryption, keys[0].Key.Public()))
		msg := filepath.Join(tmp, "other.p7m")
		testenv.Run(t, openssl, "cms", "-encrypt", "-binary", "-in", plain, "-out", msg, "-outform", "DER", "-recip", other)
		wantFailure(t, runApp(t, "", "--wallet", dir, "--pin-file", pin, "decrypt", "--in", msg, "--out", filepath.Join(tmp, "x")), 1, "not encrypted to any")
	})
	t.Run("not a message", func(t *testing.T) {
		wantFailure(t, runApp(t, "", "--wallet", dir, "--pin-file", pin, "decrypt", "--in", plain, "--out", filepath.Join(tmp, "x")), 1, "not a CMS message")
	})
}
