package password_test

import (
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/internal/password"
)

var cheap = password.Params{Memory: 1024, Time: 1, Threads: 1}

func TestHashAndVerify(t *testing.T) {
	h := password.Hash("correct horse", cheap)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q", h)
	}
	if h == password.Hash("correct horse", cheap) {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	if ok, err := password.Verify("correct horse", h); !ok || err != nil {
		t.Fatalf("verify: %v %v", ok, err)
	}
	if ok, _ := password.Verify("correct horsE", h); ok {
		t.Fatal("a wrong password verified")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=x,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=18$m=1024,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=1024,t=1,p=1$!!$aGFzaA", "$argon2id$v=19$m=1024,t=0,p=1$c2FsdA$aGFzaA"} {
		if _, err := password.Verify("x", bad); err != password.ErrMalformed {
			t.Errorf("Verify(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		p := password.Generate(20)
		if len(p) != 20 || strings.ContainsAny(p, "0O1lI") || seen[p] {
			t.Fatalf("generated %q", p)
		}
		seen[p] = true
	}
}
