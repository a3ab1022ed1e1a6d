// Package e2e_test drives the real lanyard program from the outside, as
// its users do: it starts `lanyard serve` as a process on a random port,
// administers it with the lanyard commands, and talks to it over HTTP and
// through a headless Chromium.
//
// TestMain builds the program once with `go build`. Two environment
// variables change that for a developer's own runs:
//
//   - LANYARD_BIN names a lanyard binary built beforehand; nothing is built.
//   - LANYARD_E2E_BUILDFLAGS holds extra `go build` flags, split at white
//     space, for example "-race" or "-overlay=/path/overlay.json" to build
//     while files elsewhere in the tree are being rewritten.
package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// lanyardBin is the path of the program under test.
var lanyardBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if bin := os.Getenv("LANYARD_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: LANYARD_BIN: %v\n", err)
			return 1
		}
		lanyardBin = abs
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "lanyard-e2e-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	lanyardBin = filepath.Join(dir, "lanyard")
	args := []string{"build", "-o", lanyardBin}
	args = append(args, strings.Fields(os.Getenv("LANYARD_E2E_BUILDFLAGS"))...)
	args = append(args, "github.com/lanyard-id/lanyard/cmd/lanyard")
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go %s: %v\n%s", strings.Join(args, " "), err, out)
		return 1
	}
	return m.Run()
}
