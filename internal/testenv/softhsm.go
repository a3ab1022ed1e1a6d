package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// softHSMModules are where distributions put the SoftHSM2 module.
var softHSMModules = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
}

// SoftHSMToken initialises a fresh SoftHSM2 token with the given label and
// user PIN (SO PIN 1234) in a temporary folder, points this process — and
// the processes it starts — at it through SOFTHSM2_CONF, and returns the
// path of the PKCS#11 module. SoftHSM2 reads that file when the module is
// initialised, so every session of the previous test must be closed by
// then. Without SoftHSM2 the test is skipped, or fails when required.
func SoftHSMToken(tb testing.TB, label, pin string) (module string) {
	tb.Helper()
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		Unavailable(tb, "SoftHSM2 (package softhsm2): %v", err)
	}
	for _, p := range softHSMModules {
		if _, err := os.Stat(p); err == nil {
			module = p
			break
		}
	}
	if module == "" {
		Unavailable(tb, "SoftHSM2 module not found in %v", softHSMModules)
	}
	dir := tb.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		tb.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	text := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
	tb.Setenv("SOFTHSM2_CONF", conf)
	Run(tb, util, "--init-token", "--free", "--label", label, "--so-pin", "1234", "--pin", pin)
	return module
}
