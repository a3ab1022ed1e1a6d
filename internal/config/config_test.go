package config_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/config"
)

func TestDefaultsAreValid(t *testing.T) {
	c := config.Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != "http://127.0.0.1:8080" || c.DatabaseDSN() != filepath.Join("lanyard-data", "lanyard.db") {
		t.Fatalf("base %s, dsn %s", c.BaseURL(), c.DatabaseDSN())
	}
}

func TestValidateRefuses(t *testing.T) {
	cases := []struct {
		name string
		edit func(*config.Config)
		want string
	}{
		{"listen", func(c *config.Config) { c.Listen = "nonsense" }, "--listen"},
		{"db", func(c *config.Config) { c.DB = "mysql://x" }, "--db"},
		{"public url", func(c *config.Config) { c.PublicURL = "ftp://x" }, "--public-url"},
		{"log format", func(c *config.Config) { c.LogFormat = "xml" }, "--log-format"},
		{"log level", func(c *config.Config) { c.LogLevel = "loud" }, "--log-level"},
		{"cookie", func(c *config.Config) { c.CookieSecure = "sometimes" }, "--cookie-secure"},
		{"session", func(c *config.Config) { c.SessionTTL = time.Second }, "--session-ttl"},
		{"smtp tls", func(c *config.Config) { c.SMTPTLS = "ssl" }, "--smtp-tls"},
		{"smtp addr", func(c *config.Config) { c.SMTPAddr = "mail" }, "--smtp-addr"},
		{"smtp timeout", func(c *config.Config) { c.SMTPTimeout = 0 }, "--smtp-timeout"},
		{"mail from", func(c *config.Config) { c.MailFrom = "nobody" }, "--mail-from"},
		{"ca", func(c *config.Config) { c.CAKeyAlg = "dsa" }, "--ca-key-alg"},
		{"ca backend", func(c *config.Config) { c.CABackend = "tpm" }, "--ca-backend"},
		{"pkcs11 settings", func(c *config.Config) { c.CABackend, c.PKCS11Module, c.PKCS11Token = "pkcs11", "/lib/p11.so", "ca" }, "--pkcs11-pin-file"},
		{"code ttl", func(c *config.Config) { c.ScreenCodeTTL = 0 }, "code"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			tc.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line naming %s", err, tc.want)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "lanyard.conf")
	os.WriteFile(file, []byte("# settings\nlisten = 127.0.0.1:1001\nlog-level = debug\nmail-from = \"a@example.com\"\n"), 0o600)
	env := map[string]string{"LANYARD_LISTEN": "127.0.0.1:1002", "LANYARD_LOG_FORMAT": "json"}
	getenv := func(k string) string { return env[k] }
	parse := func(args ...string) config.Config {
		c := config.Default()
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		config.Register(fs, &c)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := config.Apply(fs, file, getenv); err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := parse("--listen", "127.0.0.1:1003")
	if c.Listen != "127.0.0.1:1003" || c.LogFormat != "json" || c.LogLevel != "debug" || c.MailFrom != "a@example.com" {
		t.Fatalf("flag: %+v", c)
	}
	if c := parse(); c.Listen != "127.0.0.1:1002" {
		t.Fatalf("env: %s", c.Listen)
	}
	delete(env, "LANYARD_LISTEN")
	if c := parse(); c.Listen != "127.0.0.1:1001" {
		t.Fatalf("file: %s", c.Listen)
	}
	os.WriteFile(file, []byte("listn = x\n"), 0o600)
	c2 := config.Default()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	config.Register(fs, &c2)
	if err := config.Apply(fs, file, getenv); err == nil || !strings.Contains(err.Error(), `unknown setting "listn"`) {
		t.Fatalf("unknown setting: %v", err)
	}
}

func TestPKCS11Settings(t *testing.T) {
	pinFile := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(pinFile, []byte("5678\n"), 0o600)
	c := config.Default()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	config.Register(fs, &c)
	if err := fs.Parse([]string{"--ca-backend", "pkcs11", "--pkcs11-module", "/usr/lib/softhsm/libsofthsm2.so",
		"--pkcs11-token", "lanyard", "--pkcs11-pin-file", pinFile}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if pin, err := c.PKCS11PIN(); err != nil || pin != "5678" {
		t.Fatalf("PIN %q, %v", pin, err)
	}
	os.WriteFile(pinFile, []byte("\n"), 0o600)
	if _, err := c.PKCS11PIN(); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty PIN file: %v", err)
	}
	c.PKCS11PINFile = filepath.Join(t.TempDir(), "missing")
	if _, err := c.PKCS11PIN(); err == nil || !strings.Contains(err.Error(), "--pkcs11-pin-file") {
		t.Fatalf("missing PIN file: %v", err)
	}
	if d := config.Default(); d.CABackend != "software" {
		t.Fatalf("default backend %q", d.CABackend)
	}
}
