package web

import (
	"strings"
	"testing"
)

// TestFlashSealedToItsSession checks that a message cookie opens only for
// the session it was sealed for, and not once altered.
func TestFlashSealedToItsSession(t *testing.T) {
	msg := []byte(`{"Notice":"alice is now inactive."}`)
	v := sealFlash("token-a", msg)
	if b, ok := openFlash("token-a", v); !ok || string(b) != string(msg) {
		t.Fatalf("own session: %q, %t", b, ok)
	}
	if _, ok := openFlash("token-b", v); ok {
		t.Error("a message sealed for one session opens for another")
	}
	body, mac, _ := strings.Cut(v, ".")
	for _, bad := range []string{body, body + ".", "." + mac, body + "x." + mac, body + "." + mac[:len(mac)-2], "", "..."} {
		if _, ok := openFlash("token-a", bad); ok {
			t.Errorf("the altered value %q opens", bad)
		}
	}
}

func TestClipKeepsCharacters(t *testing.T) {
	if got := clip("Zoë", 3); got != "Zo…" {
		t.Errorf("clip cut inside a character: %q", got)
	}
	if got := clip("short", 10); got != "short" {
		t.Errorf("clip changed a short text: %q", got)
	}
}
