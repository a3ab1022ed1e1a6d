// Package e2e_test drives the real lanyard programs from the outside, as
// their users do: it starts `lanyard serve` as a process on a random port,
// administers it with the lanyard commands, talks to it over HTTP and
// through a headless Chromium, and enrolls phones with lanyard-app.
//
// TestMain builds both programs once with `go build`. Three environment
// variables change that for a developer's own runs:
//
//   - LANYARD_BIN names a lanyard binary built beforehand; it is not built.
//   - LANYARD_APP_BIN names a lanyard-app binary built beforehand; it is
//     not built.
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

// The paths of the programs under test: the server with its
// administration commands, and the reference mobile app.
var lanyardBin, appBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lanyard-e2e-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	programs := []struct {
		bin      *string
		override string // the variable naming a prebuilt binary
		pkg      string
	}{
		{&lanyardBin, "LANYARD_BIN", "github.com/lanyard-id/lanyard/cmd/lanyard"},
		{&appBin, "LANYARD_APP_BIN", "github.com/lanyard-id/lanyard/cmd/lanyard-app"},
	}
	for _, p := range programs {
		bin, err := program(dir, p.override, p.pkg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
			return 1
		}
		*p.bin = bin
	}
	return m.Run()
}

// program returns the binary of the package pkg: the absolute path the
// variable override names, or else a fresh build in dir.
func program(dir, override, pkg string) (string, error) {
	if bin := os.Getenv(override); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return "", fmt.Errorf("%s: %w", override, err)
		}
		return abs, nil
	}
	bin := filepath.Join(dir, filepath.Base(pkg))
	// The tag lets the servers hash passwords cheaply when the tests ask
	// (LANYARD_INSECURE_FAST_HASH); a binary built without it never does.
	args := []string{"build", "-tags", "lanyard_insecure_fast_hash", "-o", bin}
	args = append(args, strings.Fields(os.Getenv("LANYARD_E2E_BUILDFLAGS"))...)
	args = append(args, pkg)
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return bin, nil
}
