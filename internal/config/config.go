// Package config holds the settings of the lanyard program: one struct with
// defaults and a cross-field Validate, filled from flags, then LANYARD_*
// environment variables, then a config file, in that order of precedence.
package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard/internal/cli"
	"github.com/lanyard-id/lanyard/internal/store"
)

// Config is every setting of lanyard. The zero value is not useful; start
// from Default.
type Config struct {
	DataDir   string // folder of the SQLite database, the master key and other local state
	DB        string // postgres://… URL; empty: SQLite in DataDir
	Listen    string
	PublicURL string // base URL users and phones reach; certificates carry it

	LogFormat string // text or json
	LogLevel  string // debug, info, warn, error

	SessionTTL       time.Duration
	SessionIdle      time.Duration // a session unused this long ends
	CookieSecure     string        // auto, always or never
	LoginUserLimit   int           // failed logins per username before each further attempt waits
	LoginAddrLimit   int           // failed logins per address before each further attempt waits
	LoginMaxDelay    time.Duration // the longest wait between attempts
	LoginLockAfter   int           // failed logins in a row that lock the account's password login
	TrustedProxies   string        // CIDR,…: proxies whose X-Forwarded-For or Forwarded names the client
	MetricsListen    string        // HOST:PORT of a listener serving /metrics alone, without authentication
	MetricsTokenFile string        // file holding the bearer token that /metrics on --listen asks for
	ShutdownTimeout  time.Duration

	ScreenCodeTTL time.Duration // lifetime of an activation code shown on screen
	EmailCodeTTL  time.Duration // lifetime of an activation code sent by email

	MasterKeyFile string // 32-byte key that protects keys at rest; default DataDir/master.key
	CAKeyAlg      string // ecdsa-p256, ecdsa-p384 or rsa-3072
	CABackend     string // where the CA keys live: software (sealed in the database) or pkcs11
	PKCS11Module  string // path of the PKCS#11 library of the token
	PKCS11Token   string // label of the token that holds the CA keys
	PKCS11PINFile string // file holding the token's user PIN

	SMTPAddr         string
	SMTPTLS          string // none, starttls or tls
	SMTPUser         string
	SMTPPasswordFile string
	SMTPRetry        time.Duration // the wait after a failed delivery attempt; doubles with each failure
	SMTPTimeout      time.Duration // how long one delivery attempt may take
	MailFrom         string

	HTTPS
	Directory
}

// Default returns the settings lanyard runs with when nothing is set.
func Default() Config {
	return Config{
		DataDir:         "./lanyard-data",
		Listen:          "127.0.0.1:8080",
		LogFormat:       "text",
		LogLevel:        "info",
		SessionTTL:      8 * time.Hour,
		SessionIdle:     30 * time.Minute,
		CookieSecure:    "auto",
		LoginUserLimit:  3,
		LoginAddrLimit:  20,
		LoginMaxDelay:   5 * time.Minute,
		LoginLockAfter:  100,
		ShutdownTimeout: 15 * time.Second,
		CAKeyAlg:        "ecdsa-p256",
		CABackend:       "software",
		ScreenCodeTTL:   15 * time.Minute,
		EmailCodeTTL:    72 * time.Hour,
		SMTPTLS:         "starttls",
		SMTPRetry:       30 * time.Second,
		SMTPTimeout:     time.Minute,
		MailFrom:        "lanyard@localhost",
		Directory:       defaultDirectory(),
	}
}

// DatabaseDSN returns the DB URL, or the SQLite file in the data folder.
func (c Config) DatabaseDSN() string {
	if c.DB != "" {
		return c.DB
	}
	return filepath.Join(c.DataDir, "lanyard.db")
}

// BaseURL returns the public URL without a trailing slash: PublicURL, or
// http://<listen> (https:// when lanyard serves TLS itself).
func (c Config) BaseURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	if c.TLS() {
		return c.HTTPS.defaultURL(c.Listen)
	}
	return "http://" + c.Listen
}

// MasterKeyPath returns where the master key is read from or created.
func (c Config) MasterKeyPath() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.DataDir, "master.key")
}

// TrustedProxyPrefixes parses TrustedProxies: addresses or CIDR ranges,
// separated by commas.
func (c Config) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("--trusted-proxies %q: want addresses or CIDR ranges separated by commas", f)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// PKCS11PIN reads the user PIN of the token from PKCS11PINFile; a trailing
// newline, as echo and editors leave, is not part of it.
func (c Config) PKCS11PIN() (string, error) {
	return cli.ReadSecret(nil, c.PKCS11PINFile, "--pkcs11-pin-file")
}

// Validate checks every setting and how they fit together, and names the
// first bad one in a message fit for one line on stderr.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("--data must not be empty")
	}
	if c.DB != "" && !store.IsPostgresURL(c.DB) {
		return fmt.Errorf("--db %q: want a postgres:// URL (leave it empty for SQLite in --data)", c.DB)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("--listen %q: want HOST:PORT", c.Listen)
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("--public-url %q: want an http:// or https:// URL without query", c.PublicURL)
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	switch c.CookieSecure {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("--cookie-secure %q: want auto, always or never", c.CookieSecure)
	}
	if c.SessionTTL < time.Minute || c.SessionTTL > 30*24*time.Hour {
		return fmt.Errorf("--session-ttl %s: want between 1m and 720h", c.SessionTTL)
	}
	if c.SessionIdle < time.Minute || c.SessionIdle > c.SessionTTL {
		return fmt.Errorf("--session-idle %s: want between 1m and --session-ttl (%s)", c.SessionIdle, c.SessionTTL)
	}
	if c.LoginUserLimit < 1 || c.LoginAddrLimit < 1 || c.LoginMaxDelay < time.Second || c.LoginMaxDelay > time.Hour || c.LoginLockAfter < c.LoginUserLimit {
		return fmt.Errorf("login limits: --login-user-limit and --login-addr-limit at least 1, --login-max-delay between 1s and 1h, --login-lock-after at least --login-user-limit")
	}
	if _, err := c.TrustedProxyPrefixes(); err != nil {
		return err
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return fmt.Errorf("--metrics-listen %q: want HOST:PORT", c.MetricsListen)
		}
	}
	if c.ScreenCodeTTL < time.Minute || c.ScreenCodeTTL > 24*time.Hour || c.EmailCodeTTL < time.Minute || c.EmailCodeTTL > 30*24*time.Hour {
		return fmt.Errorf("activation code lifetimes: --screen-code-ttl between 1m and 24h, --email-code-ttl between 1m and 720h")
	}
	if c.CAKeyAlg != "ecdsa-p256" && c.CAKeyAlg != "ecdsa-p384" && c.CAKeyAlg != "rsa-3072" {
		return fmt.Errorf("--ca-key-alg %q: want ecdsa-p256, ecdsa-p384 or rsa-3072", c.CAKeyAlg)
	}
	switch c.CABackend {
	case "software":
	case "pkcs11":
		if c.PKCS11Module == "" || c.PKCS11Token == "" || c.PKCS11PINFile == "" {
			return fmt.Errorf("--ca-backend pkcs11 needs --pkcs11-module, --pkcs11-token and --pkcs11-pin-file")
		}
	default:
		return fmt.Errorf("--ca-backend %q: want software or pkcs11", c.CABackend)
	}
	switch c.SMTPTLS {
	case "none", "starttls", "tls":
	default:
		return fmt.Errorf("--smtp-tls %q: want none, starttls or tls", c.SMTPTLS)
	}
	if c.SMTPRetry <= 0 {
		return fmt.Errorf("--smtp-retry must be positive")
	}
	if c.SMTPTimeout < time.Second || c.SMTPTimeout > time.Hour {
		return fmt.Errorf("--smtp-timeout must be between 1s and 1h")
	}
	if c.SMTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.SMTPAddr); err != nil {
			return fmt.Errorf("--smtp-addr %q: want HOST:PORT", c.SMTPAddr)
		}
	}
	if _, err := mail.ParseAddress(c.MailFrom); err != nil {
		return fmt.Errorf("--mail-from %q: not an email address", c.MailFrom)
	}
	if err := c.HTTPS.validate(); err != nil {
		return err
	}
	if c.ListenHTTP != "" && (c.ListenHTTP == c.Listen || !strings.HasPrefix(c.BaseURL(), "https://")) {
		return fmt.Errorf("--listen-http redirects to an https:// public URL on another address: serve TLS (--tls-cert or --acme-domain) or set --public-url https://…")
	}
	return c.Directory.validate()
}
