package secret_test

import (
	"bytes"
	"testing"

	"github.com/lanyard-id/lanyard/internal/secret"
)

func TestBox(t *testing.T) {
	master := bytes.Repeat([]byte{7}, 32)
	box, err := secret.New(master, "outbox")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := box.Seal([]byte("activation link"), "mail 1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("activation link")) {
		t.Fatal("plaintext visible in the sealed value")
	}
	if got, err := box.Open(sealed, "mail 1"); err != nil || string(got) != "activation link" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := box.Open(sealed, "mail 2"); err == nil {
		t.Fatal("opened with other associated data")
	}
	other, _ := secret.New(master, "something else")
	if _, err := other.Open(sealed, "mail 1"); err == nil {
		t.Fatal("opened under another purpose's key")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := box.Open(sealed, "mail 1"); err == nil {
		t.Fatal("opened an altered value")
	}
	if _, err := box.Open([]byte("short"), "mail 1"); err == nil {
		t.Fatal("opened garbage")
	}
	if _, err := secret.New([]byte("short"), "x"); err == nil {
		t.Fatal("accepted a short master key")
	}
}
