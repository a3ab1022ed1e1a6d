package cms_test

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"os/exec"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/cms"
)

// encryptedByOpenSSL returns textMessage encrypted to Alice's encryption
// certificate by OpenSSL in the given output form, with extra options.
func encryptedByOpenSSL(tb testing.TB, form string, args ...string) []byte {
	tb.Helper()
	requireOpenSSL(tb)
	p := loadPKI(tb)
	dir := tb.TempDir()
	writeFile(tb, dir, "alice.pem", certPEM(p.encryption.cert))
	writeFile(tb, dir, "m.txt", textMessage)
	cmd := append([]string{"cms", "-encrypt", "-binary", "-in", "m.txt", "-outform", form, "-out", "msg"}, args...)
	if _, err := openssl(tb, dir, append(cmd, "alice.pem")...); err != nil {
		tb.Fatalf("openssl cms -encrypt: %v", err)
	}
	return readFile(tb, dir, "msg")
}

// alice is the recipient the malformed-input tests decrypt as.
func alice(tb testing.TB) cms.Recipient {
	p := loadPKI(tb)
	return cms.Recipient{Certificate: p.encryption.cert, Key: p.encryption.key.(crypto.Decrypter)}
}

// requireUserError fails unless err is a user-facing error.
func requireUserError(tb testing.TB, got []byte, err error) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("Decrypt = %q, want an error", got)
	}
	if code := lanyard.ErrorCode(err); code == lanyard.EINTERNAL {
		tb.Fatalf("error %v is not a user-facing error", err)
	}
}

func TestDecryptRefusesMalformedInput(t *testing.T) {
	p := loadPKI(t)
	der := encryptedByOpenSSL(t, "DER", "-aes-256-cbc")
	signed, err := cms.SignDetached([]byte("x"), p.signP256.cert, nil, p.signP256.key)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"whitespace", []byte(" \r\n\t\n")},
		{"plain text", []byte("hello, world")},
		{"garbage DER", []byte{0x30, 0x82, 0xff, 0xff, 0x01}},
		{"indefinite primitive", []byte{0x30, 0x80, 0x04, 0x80, 0x00, 0x00}},
		{"deep nesting", bytes.Repeat([]byte{0x30, 0x80}, 10000)},
		{"trailing garbage", append(bytes.Clone(der), 0x00)},
		{"signed data", signed},
		{"certificate PEM", certPEM(p.encryption.cert)},
		{"PEM with bad base64", []byte("-----BEGIN CMS-----\n!!!!\n-----END CMS-----\n")},
		{"S/MIME signature", []byte("Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"\n\nbody")},
		{"S/MIME bad base64", []byte("Content-Type: application/pkcs7-mime\nContent-Transfer-Encoding: base64\n\n@@@@")},
		{"S/MIME signed-data", []byte("Content-Type: application/pkcs7-mime; smime-type=signed-data\n\nMA==")},
		{"base64 of garbage", []byte(base64.StdEncoding.EncodeToString([]byte{0x30, 0x01, 0x01}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cms.Decrypt(tt.data, alice(t))
			requireUserError(t, got, err)
			t.Logf("message: %s", lanyard.ErrorMessage(err))
		})
	}
}

func TestDecryptRefusesTruncatedMessages(t *testing.T) {
	der := encryptedByOpenSSL(t, "DER", "-aes-256-cbc")
	for n := range len(der) {
		got, err := cms.Decrypt(der[:n], alice(t))
		requireUserError(t, got, err)
	}
	smime := encryptedByOpenSSL(t, "SMIME", "-aes-256-cbc")
	for n := 0; n < len(smime)-2; n += 7 {
		got, err := cms.Decrypt(smime[:n], alice(t))
		requireUserError(t, got, err)
	}
	pemMsg := encryptedByOpenSSL(t, "PEM", "-aes-256-cbc")
	for n := 0; n < len(pemMsg)-30; n += 11 {
		got, err := cms.Decrypt(pemMsg[:n], alice(t))
		requireUserError(t, got, err)
	}
}

func TestDecryptDetectsTamperedGCM(t *testing.T) {
	der := encryptedByOpenSSL(t, "DER", "-aes-256-gcm")
	for _, off := range []int{len(der) - 1, len(der) - 20, len(der) - 40} {
		tampered := bytes.Clone(der)
		tampered[off] ^= 0x01
		got, err := cms.Decrypt(tampered, alice(t))
		requireUserError(t, got, err)
	}
}

func TestDecryptSurvivesBitFlips(t *testing.T) {
	der := encryptedByOpenSSL(t, "DER", "-aes-128-cbc")
	for off := 0; off < len(der); off += 5 {
		flipped := bytes.Clone(der)
		flipped[off] ^= 0x80
		if _, err := cms.Decrypt(flipped, alice(t)); err != nil && lanyard.ErrorCode(err) == lanyard.EINTERNAL {
			t.Errorf("flip at %d: %v is not a user-facing error", off, err)
		}
	}
}

// FuzzDecrypt feeds mutated messages to Decrypt: whatever the input, it
// must return content or a user-facing error, never panic.
func FuzzDecrypt(f *testing.F) {
	if _, err := exec.LookPath("openssl"); err == nil {
		f.Add(encryptedByOpenSSL(f, "DER", "-aes-256-cbc"))
		f.Add(encryptedByOpenSSL(f, "DER", "-aes-128-gcm"))
		f.Add(encryptedByOpenSSL(f, "DER", "-aes-192-cbc", "-stream"))
		f.Add(encryptedByOpenSSL(f, "DER", "-aes-256-cbc", "-keyid", "-recip", "alice.pem", "-keyopt", "rsa_padding_mode:oaep"))
		f.Add(encryptedByOpenSSL(f, "SMIME", "-aes-256-cbc"))
		f.Add(encryptedByOpenSSL(f, "PEM", "-des3"))
	}
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Add([]byte("Content-Type: application/pkcs7-mime\n\n0"))
	recipient := alice(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := cms.Decrypt(data, recipient)
		if err != nil && got != nil {
			t.Fatalf("Decrypt returned content with error %v", err)
		}
		if err != nil && lanyard.ErrorCode(err) == lanyard.EINTERNAL {
			t.Fatalf("error %v is not a user-facing error", err)
		}
	})
}
