package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// result is what a finished command printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// runLanyard runs the lanyard binary to completion with the given
// environment (nil: childEnv()) and kills it if it runs too long.
func runLanyard(t testing.TB, env []string, args ...string) result {
	t.Helper()
	return runBinary(t, lanyardBin, env, args...)
}

// runBinary runs one of the programs under test to completion with the
// given environment (nil: childEnv()) and kills it if it runs too long.
func runBinary(t testing.TB, bin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	if env == nil {
		env = childEnv()
	}
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee := (*exec.ExitError)(nil); err != nil && !errors.As(err, &ee) {
		t.Fatalf("run %s: %v", bin, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %s did not finish within %s; stderr:\n%s", filepath.Base(bin), strings.Join(args, " "), commandTimeout, stderr.String())
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: exitCode(err)}
}

// mustLanyard runs an administration command and fails the test unless it
// succeeds.
func mustLanyard(t testing.TB, args ...string) result {
	t.Helper()
	r := runLanyard(t, nil, args...)
	if r.code != 0 {
		t.Fatalf("lanyard %s: exit code %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// addUser creates a user with the CLI, as an operator would, and returns
// what the command printed.
func addUser(t testing.TB, in instance, username, password string, extra ...string) result {
	t.Helper()
	pwFile := filepath.Join(t.TempDir(), username+".password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"user", "add", username,
		"--email", username + "@example.com", "--name", titleName(username) + " Example",
		"--password-file", pwFile}, in.args()...)
	return mustLanyard(t, append(args, extra...)...)
}

// titleName is a username with a capital first letter, for common names.
func titleName(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// adminPasswordLines returns the lines of out that announce the initial
// administrator password.
func adminPasswordLines(out string) []string {
	var lines []string
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "initial admin password: ") {
			lines = append(lines, strings.TrimRight(line, "\r\n"))
		}
	}
	return lines
}

// adminPassword returns the one-time password a first start printed, and
// fails the test unless stdout is exactly that one line.
func adminPassword(t testing.TB, stdout string) string {
	t.Helper()
	lines := adminPasswordLines(stdout)
	if len(lines) != 1 || stdout != lines[0]+"\n" {
		t.Fatalf("stdout of the first start = %q, want exactly one line \"initial admin password: <password>\"", stdout)
	}
	pw := strings.TrimPrefix(lines[0], "initial admin password: ")
	if len(pw) < 12 || strings.ContainsAny(pw, " \t") {
		t.Fatalf("initial admin password %q: want one word of at least 12 characters", pw)
	}
	return pw
}
