package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	pin := pinFile(t, testPIN)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"unknown global flag", []string{"--colour", "profiles"}, "-colour"},
		{"unknown command flag", []string{"--wallet", dir, "profiles", "--colour"}, "-colour"},
		{"enroll without source", []string{"--wallet", dir, "--pin-file", pin, "enroll"}, "expected 'lanyard-app enroll"},
		{"enroll with two sources", []string{"--wallet", dir, "--pin-file", pin, "enroll", "a", "b"}, "expected"},
		{"sign without --in", []string{"--wallet", dir, "--pin-file", pin, "sign", "--out", "x"}, "sign needs --in"},
		{"decrypt without --out", []string{"--wallet", dir, "--pin-file", pin, "decrypt", "--in", "x"}, "decrypt needs --out"},
		{"sign with a positional", []string{"--wallet", dir, "sign", "--in", "a", "--out", "b", "c"}, "expected"},
		{"authenticate without URL", []string{"--wallet", dir, "authenticate"}, "expected"},
		{"profiles without wallet", []string{"--pin-file", pin, "profiles"}, "--wallet DIR"},
		{"profiles without PIN", []string{"--wallet", dir, "profiles"}, "no PIN"},
		{"version with an argument", []string{"version", "now"}, "expected"},
		{"bad device name", []string{"--wallet", dir, "enroll", "--device", strings.Repeat("x", 65), "https://x/app/v1/enroll?code=c"}, "--device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(pinEnv, "")
			wantFailure(t, runApp(t, "", tt.args...), 2, tt.want)
		})
	}
	if r := runApp(t, ""); r.code != 2 || !strings.Contains(r.stderr, "Usage: lanyard-app") {
		t.Errorf("no arguments: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestHelp(t *testing.T) {
	calls := [][]string{{"--help"}, {"-h"}, {"help"}, {"--wallet", "w", "--help"}}
	for _, c := range commands() {
		calls = append(calls, []string{c.name, "--help"}, []string{c.name, "-h"}, []string{"help", c.name},
			[]string{"--wallet", "w", c.name, "x", "--help"})
	}
	for _, args := range calls {
		r := runApp(t, "", args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: lanyard-app") || r.stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, "-wallet DIR") {
			t.Errorf("%q does not mention --wallet", args)
		}
	}
}

func TestVersion(t *testing.T) {
	if r := runApp(t, "", "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "lanyard-app ") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("version: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestPIN(t *testing.T) {
	dir := newWallet(t, newCA(t))
	t.Run("file with trailing newline", func(t *testing.T) {
		// Flags may also stand after the command.
		r := runApp(t, "", "profiles", "--wallet", dir, "--pin-file", pinFile(t, testPIN))
		if r.code != 0 || !strings.Contains(r.stdout, "MobileID Alice Example") {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("standard input", func(t *testing.T) {
		if r := runApp(t, testPIN+"\r\n", "--wallet", dir, "--pin-file", "-", "profiles"); r.code != 0 {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv(pinEnv, testPIN)
		if r := runApp(t, "", "--wallet", dir, "profiles"); r.code != 0 {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("wrong PIN", func(t *testing.T) {
		t.Setenv(pinEnv, testPIN)
		before, _ := os.ReadFile(filepath.Join(dir, "wallet.json.enc"))
		for _, cmd := range [][]string{{"profiles"}, {"sync"}, {"enroll", "https://127.0.0.1:1/app/v1/enroll?code=c"}} {
			args := append([]string{"--wallet", dir, "--pin-file", pinFile(t, "1357-nope")}, cmd...)
			wantFailure(t, runApp(t, "", args...), 1, "wrong PIN")
		}
		if after, _ := os.ReadFile(filepath.Join(dir, "wallet.json.enc")); string(after) != string(before) {
			t.Error("a wrong PIN changed the wallet file")
		}
	})
	t.Run("no wallet", func(t *testing.T) {
		wantFailure(t, runApp(t, "", "--wallet", t.TempDir(), "--pin-file", pinFile(t, testPIN), "profiles"), 1, "no wallet")
	})
}

func TestProfiles(t *testing.T) {
	dir := newWallet(t, newCA(t))
	pin := pinFile(t, testPIN)
	r := runApp(t, "", "--wallet", dir, "--pin-file", pin, "profiles", "--json")
	var view []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &view); err != nil || r.code != 0 || len(view) != 1 {
		t.Fatalf("profiles --json: exit %d, %v, stdout %q", r.code, err, r.stdout)
	}
	if view[0]["profile_name"] != "MobileID Alice Example" || view[0]["user_id"] != "alice@example.com" || view[0]["state"] != "active" {
		t.Errorf("profile = %v", view[0])
	}
	var usages []string
	for _, c := range view[0]["certificates"].([]any) {
		c := c.(map[string]any)
		usages = append(usages, c["usage"].(string))
		if !strings.HasPrefix(c["pem"].(string), "-----BEGIN CERTIFICATE-----") || c["recovered"] != (len(usages) == 4) {
			t.Errorf("certificate %d = %v", len(usages), c)
		}
	}
	if !reflect.DeepEqual(usages, []string{"signature", "authentication", "encryption", "encryption"}) {
		t.Errorf("usages = %v", usages)
	}

	r = runApp(t, "", "--wallet", dir, "--pin-file", pin, "profiles")
	if r.code != 0 || !strings.Contains(r.stdout, "PROFILE") || !strings.Contains(r.stdout, "encryption until") || !strings.Contains(r.stdout, "(recovered)") {
		t.Errorf("profiles: exit %d, stdout %q", r.code, r.stdout)
	}
}
