package main

import (
	"testing"

	"github.com/lanyard-id/lanyard/internal/password"
)

// The tests of this package run the commands in-process with the cheap
// hash, as the tagged test binaries do.
func init() { insecureFastHash = true }

func TestFastHashOnlyInTestBuilds(t *testing.T) {
	env := func(string) string { return "1" }
	defer func(was bool) { insecureFastHash = was }(insecureFastHash)
	insecureFastHash = false
	if got := passwordParams(env); got != password.Default {
		t.Fatalf("a production build with LANYARD_INSECURE_FAST_HASH=1 hashes with %+v, want %+v", got, password.Default)
	}
	insecureFastHash = true
	if got := passwordParams(env); got == password.Default {
		t.Fatal("a test build ignores LANYARD_INSECURE_FAST_HASH=1")
	}
}
