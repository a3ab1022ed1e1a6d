package cms_test

import (
	"bytes"
	"crypto"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/cms"
)

// textMessage has the LF line endings OpenSSL canonicalises to CRLF when
// encrypting without -binary.
var textMessage = []byte("Dear Alice,\nthe contract is attached.\n\nRegards\r\nBob\n")

// binaryMessage must come back byte for byte with -binary.
var binaryMessage = append([]byte("\x00\x01\r\n\n\r\xff"), bytes.Repeat([]byte("binary content "), 300)...)

func TestDecryptOpenSSLMessages(t *testing.T) {
	requireOpenSSL(t)
	p := loadPKI(t)
	dir := t.TempDir()
	writeFile(t, dir, "alice.pem", certPEM(p.encryption.cert))
	writeFile(t, dir, "alice.key", keyPEM(t, p.encryption.key))
	writeFile(t, dir, "text.txt", textMessage)
	writeFile(t, dir, "binary.bin", binaryMessage)
	oaep := []string{"-recip", "alice.pem", "-keyopt", "rsa_padding_mode:oaep"}
	oaep256 := append(oaep, "-keyopt", "rsa_oaep_md:sha256")
	tests := []struct {
		name   string
		form   string   // -outform of the encryption: SMIME, DER or PEM
		args   []string // cipher and recipient options
		binary bool
	}{
		{"S/MIME, default cipher", "SMIME", []string{"alice.pem"}, false},
		{"S/MIME, aes-256-cbc", "SMIME", []string{"-aes-256-cbc", "alice.pem"}, false},
		{"S/MIME, aes-256-cbc, text headers", "SMIME", []string{"-aes-256-cbc", "-text", "alice.pem"}, false},
		{"S/MIME, streamed BER", "SMIME", []string{"-aes-256-cbc", "-stream", "alice.pem"}, false},
		{"S/MIME, binary", "SMIME", []string{"-aes-256-cbc", "alice.pem"}, true},
		{"DER, aes-256-cbc", "DER", []string{"-aes-256-cbc", "alice.pem"}, true},
		{"DER, aes-128-cbc", "DER", []string{"-aes-128-cbc", "alice.pem"}, true},
		{"DER, aes-192-cbc, streamed BER", "DER", []string{"-aes-192-cbc", "-stream", "alice.pem"}, true},
		{"PEM, aes-128-cbc", "PEM", []string{"-aes-128-cbc", "alice.pem"}, true},
		{"PEM, text", "PEM", []string{"-aes-256-cbc", "alice.pem"}, false},
		{"DER, OAEP SHA-1", "DER", append([]string{"-aes-256-cbc"}, oaep...), true},
		{"DER, OAEP SHA-256, subject key identifier", "DER", append([]string{"-aes-128-cbc", "-keyid"}, oaep256...), true},
		{"S/MIME, OAEP SHA-256", "SMIME", append([]string{"-aes-256-cbc"}, oaep256...), false},
		{"DER, aes-256-gcm", "DER", []string{"-aes-256-gcm", "alice.pem"}, true},
		{"S/MIME, aes-128-gcm", "SMIME", []string{"-aes-128-gcm", "alice.pem"}, false},
		{"DER, subject key identifier", "DER", []string{"-aes-256-cbc", "-keyid", "alice.pem"}, true},
	}
	recipient := cms.Recipient{Certificate: p.encryption.cert, Key: p.encryption.key.(crypto.Decrypter)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, want := "text.txt", textMessage
			args := []string{"cms", "-encrypt", "-in", in, "-outform", tt.form, "-out", "msg"}
			if tt.binary {
				in, want = "binary.bin", binaryMessage
				args = []string{"cms", "-encrypt", "-binary", "-in", in, "-outform", tt.form, "-out", "msg"}
			}
			if _, err := openssl(t, dir, append(args, tt.args...)...); err != nil {
				t.Fatalf("openssl cms -encrypt: %v", err)
			}
			msg := readFile(t, dir, "msg")
			got, err := cms.Decrypt(msg, recipient)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			ref, err := openssl(t, dir, "cms", "-decrypt", "-inform", tt.form, "-in", "msg", "-recip", "alice.pem", "-inkey", "alice.key")
			if err != nil {
				t.Fatalf("openssl cms -decrypt: %v", err)
			}
			if !bytes.Equal(got, ref) {
				t.Errorf("Decrypt = %q, openssl cms -decrypt = %q", got, ref)
			}
			if tt.binary && !bytes.Equal(got, want) {
				t.Errorf("Decrypt = %q, want the original %q", got, want)
			}
			if canonical := canonicalText(want); !tt.binary && !bytes.HasSuffix(got, canonical) {
				t.Errorf("Decrypt = %q, want it to end in the canonical text %q", got, canonical)
			}
		})
	}
}

func TestDecryptWrongKey(t *testing.T) {
	requireOpenSSL(t)
	p := loadPKI(t)
	dir := t.TempDir()
	writeFile(t, dir, "alice.pem", certPEM(p.encryption.cert))
	writeFile(t, dir, "m.txt", textMessage)
	if _, err := openssl(t, dir, "cms", "-encrypt", "-aes-256-cbc", "-in", "m.txt", "-out", "msg", "alice.pem"); err != nil {
		t.Fatal(err)
	}
	msg := readFile(t, dir, "msg")
	bob := cms.Recipient{Certificate: p.other.cert, Key: p.other.key.(crypto.Decrypter)}
	mismatched := cms.Recipient{Certificate: p.encryption.cert, Key: p.other.key.(crypto.Decrypter)}
	tests := []struct {
		name       string
		recipients []cms.Recipient
		code       string
	}{
		{"another user's certificate", []cms.Recipient{bob}, lanyard.ENOTFOUND},
		{"no certificates", nil, lanyard.ENOTFOUND},
		{"key of another certificate", []cms.Recipient{mismatched}, lanyard.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cms.Decrypt(msg, tt.recipients...)
			if err == nil {
				t.Fatalf("Decrypt = %q, want an error", got)
			}
			if code := lanyard.ErrorCode(err); code != tt.code {
				t.Errorf("error code = %q, want %q (%v)", code, tt.code, err)
			}
			t.Logf("message: %s", lanyard.ErrorMessage(err))
		})
	}
}

// canonicalText is text with CRLF line endings, as OpenSSL encrypts it
// without -binary.
func canonicalText(b []byte) []byte {
	lf := bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
}
