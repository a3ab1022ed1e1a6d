package password_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/lanyard-id/lanyard/internal/password"
)

// phc encodes an argon2id hash made elsewhere, as another system would
// have stored it.
func phc(pw string, salt []byte, m, t uint32, p uint8) string {
	key := argon2.IDKey([]byte(pw), salt, t, m, p, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p, enc.EncodeToString(salt), enc.EncodeToString(key))
}

func TestForeignHashesVerify(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("correct horse"), 5)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"argon2id RFC 9106 second option": phc("correct horse", []byte("sixteen byte salt"), 64*1024, 3, 4),
		"argon2id OWASP t=1":              phc("correct horse", []byte("saltsalt"), 47104/8, 1, 1),
		"bcrypt $2a$":                     string(b),
		"bcrypt $2b$":                     "$2b$" + string(b[4:]),
		"bcrypt $2y$":                     "$2y$" + string(b[4:]),
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			if err := password.Check(h); err != nil {
				t.Fatalf("Check(%q) = %v", h, err)
			}
			if ok, err := password.Verify("correct horse", h); !ok || err != nil {
				t.Fatalf("Verify = %v, %v", ok, err)
			}
			if ok, err := password.Verify("correct horsE", h); ok || err != nil {
				t.Fatalf("a wrong password: Verify = %v, %v", ok, err)
			}
			if !password.NeedsRehash(h, password.Default) {
				t.Fatal("a foreign hash is kept at the next login")
			}
		})
	}
	own := password.Hash("correct horse", cheap)
	if password.NeedsRehash(own, cheap) || !password.NeedsRehash(own, password.Default) {
		t.Fatal("NeedsRehash does not compare the parameters")
	}
}

func TestCheckRefuses(t *testing.T) {
	salt := base64.RawStdEncoding.EncodeToString([]byte("sixteen byte salt"))
	key := base64.RawStdEncoding.EncodeToString(make([]byte, 32))
	a := func(params string) string { return "$argon2id$v=19$" + params + "$" + salt + "$" + key }
	b, _ := bcrypt.GenerateFromPassword([]byte("x"), 4)
	cases := []struct{ name, hash, want string }{
		{"memory of 4 GiB", a("m=4194304,t=1,p=1"), "m must be"},
		{"memory just above the bound", a(fmt.Sprintf("m=%d,t=1,p=1", password.MaxMemory+1)), "m must be"},
		{"a million passes", a("m=1024,t=1000000,p=1"), "t must be"},
		{"memory times passes", a("m=65536,t=5,p=1"), "m×t"},
		{"255 lanes", a("m=65536,t=1,p=255"), "p must be"},
		{"no lanes", a("m=1024,t=1,p=0"), "p must be"},
		{"less memory than lanes need", a("m=8,t=1,p=2"), "m must be"},
		{"parameter overflow", a("m=99999999999,t=1,p=1"), "decimal"},
		{"parameter twice", a("m=1024,m=1024,p=1"), "decimal"},
		{"parameter missing", a("m=1024,t=1"), "m=…,t=…,p=…"},
		{"leading zero", a("m=01024,t=1,p=1"), "decimal"},
		{"extra parameter", a("m=1024,t=1,p=1,keyid=x"), "decimal"},
		{"old version", strings.Replace(a("m=1024,t=1,p=1"), "v=19", "v=16", 1), "version"},
		{"no version", "$argon2id$m=1024,t=1,p=1$" + salt + "$" + key, "want $argon2id$"},
		{"short salt", "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$" + key, "salt must have"},
		{"short key", "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$aGFzaA", "hash must have"},
		{"huge key", "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$" + base64.RawStdEncoding.EncodeToString(make([]byte, 1024)), "hash must have"},
		{"padded base64", "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$" + base64.StdEncoding.EncodeToString(make([]byte, 32)), "base64"},
		{"not base64", "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$!!!!", "base64"},
		{"argon2i", "$argon2i$v=19$m=1024,t=1,p=1$" + salt + "$" + key, "only argon2id"},
		{"sha512-crypt", "$6$rounds=5000$salt$hash", "$6$ hash is not accepted"},
		{"scrypt", "$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaA", "$scrypt$ hash is not accepted"},
		{"bcrypt cost 31", "$2b$31$" + string(b[7:]), "cost must be 4 to 14"},
		{"bcrypt cost 15", "$2b$15$" + string(b[7:]), "cost must be 4 to 14"},
		{"bcrypt cost 3", "$2b$03$" + string(b[7:]), "cost must be 4 to 14"},
		{"bcrypt truncated", string(b[:59]), "malformed bcrypt"},
		{"bcrypt foreign character", string(b[:59]) + "!", "malformed bcrypt"},
		{"bcrypt one-digit cost", "$2b$4$" + string(b[7:]) + "x", "malformed bcrypt"},
		{"bcrypt $2x$", "$2x$" + string(b[4:]), "$2x$ hash is not accepted"},
		{"a plain password", "correct horse", "not an argon2id or bcrypt hash"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := password.Check(c.hash)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check(%q) = %v, want an error with %q", c.hash, err, c.want)
			}
			if _, err := password.Verify("x", c.hash); err != password.ErrMalformed {
				t.Fatalf("Verify = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestLooksLikeHash(t *testing.T) {
	for s, want := range map[string]bool{
		"$argon2id$v=19$x": true, "$2b$10$abc": true, "$6$salt$hash": true, "$pbkdf2-sha256$29000$x": true,
		"correct horse": false, "$money$": false, "$ not a hash $x": false, "$$x": false, "$Upper$x": false, "x$2b$10$": false,
	} {
		if got := password.LooksLikeHash(s); got != want {
			t.Errorf("LooksLikeHash(%q) = %v, want %v", s, got, want)
		}
	}
}
