package config

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
)

// Register defines a flag for every setting on fs, writing into c. The
// flag's default is c's current value, so `--help` shows the defaults.
// A config file flag is defined too; its value is returned through file.
func Register(fs *flag.FlagSet, c *Config) (file *string) {
	fs.StringVar(&c.DataDir, "data", c.DataDir, "folder for the SQLite database, the master key and local state")
	fs.StringVar(&c.DB, "db", c.DB, "PostgreSQL URL (postgres://…); empty: SQLite in --data")
	fs.StringVar(&c.Listen, "listen", c.Listen, "address to listen on, HOST:PORT")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "URL users and phones reach the server at (default http://<listen>)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
	fs.DurationVar(&c.SessionTTL, "session-ttl", c.SessionTTL, "how long a login lasts")
	fs.StringVar(&c.CookieSecure, "cookie-secure", c.CookieSecure, "Secure flag on cookies: auto (when the public URL is https), always or never")
	fs.DurationVar(&c.SessionIdle, "session-idle", c.SessionIdle, "how long an unused login lasts")
	fs.IntVar(&c.LoginUserLimit, "login-user-limit", c.LoginUserLimit, "failed logins per username before each further attempt waits (1s, doubling)")
	fs.IntVar(&c.LoginAddrLimit, "login-addr-limit", c.LoginAddrLimit, "failed logins per client address before each further attempt waits (1s, doubling)")
	fs.DurationVar(&c.LoginMaxDelay, "login-max-delay", c.LoginMaxDelay, "the longest wait between login attempts")
	fs.IntVar(&c.LoginLockAfter, "login-lock-after", c.LoginLockAfter, "failed logins in a row after which an account's password login is locked until an administrator lifts it")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies, "addresses or CIDR ranges of reverse proxies whose X-Forwarded-For or Forwarded header names the client, separated by commas")
	fs.StringVar(&c.MetricsListen, "metrics-listen", c.MetricsListen, "HOST:PORT of a second listener that serves /metrics without authentication (for a private network)")
	fs.StringVar(&c.MetricsTokenFile, "metrics-token-file", c.MetricsTokenFile, "file holding the bearer token that /metrics on --listen asks for (administrators' sessions need none)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long to let requests finish on SIGTERM")
	fs.DurationVar(&c.ScreenCodeTTL, "screen-code-ttl", c.ScreenCodeTTL, "lifetime of an activation code shown as a QR code on screen")
	fs.DurationVar(&c.EmailCodeTTL, "email-code-ttl", c.EmailCodeTTL, "lifetime of an activation code sent by email")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", c.MasterKeyFile, "file with the key that protects keys at rest (default <data>/master.key, created on first start)")
	fs.StringVar(&c.CAKeyAlg, "ca-key-alg", c.CAKeyAlg, "algorithm of a new CA: ecdsa-p256, ecdsa-p384 or rsa-3072")
	fs.StringVar(&c.CABackend, "ca-backend", c.CABackend, "where the CA keys live: software (sealed in the database) or pkcs11 (in an HSM)")
	fs.StringVar(&c.PKCS11Module, "pkcs11-module", c.PKCS11Module, "path of the PKCS#11 library of the HSM, for --ca-backend pkcs11")
	fs.StringVar(&c.PKCS11Token, "pkcs11-token", c.PKCS11Token, "label of the PKCS#11 token that holds the CA keys")
	fs.StringVar(&c.PKCS11PINFile, "pkcs11-pin-file", c.PKCS11PINFile, "file holding the user PIN of the PKCS#11 token")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", c.SMTPAddr, "SMTP server HOST:PORT; empty: mail stays in the outbox")
	fs.StringVar(&c.SMTPTLS, "smtp-tls", c.SMTPTLS, "SMTP transport security: none, starttls or tls")
	fs.StringVar(&c.SMTPUser, "smtp-user", c.SMTPUser, "SMTP user name")
	fs.StringVar(&c.SMTPPasswordFile, "smtp-password-file", c.SMTPPasswordFile, "file holding the SMTP password")
	fs.DurationVar(&c.SMTPRetry, "smtp-retry", c.SMTPRetry, "wait after a failed mail delivery before the next attempt; doubles with each failure, up to an hour")
	fs.DurationVar(&c.SMTPTimeout, "smtp-timeout", c.SMTPTimeout, "how long one mail delivery attempt may take; a mail whose attempt a crash cut short is sent again after twice that")
	fs.StringVar(&c.MailFrom, "mail-from", c.MailFrom, "sender address of mail")
	registerHTTPS(fs, &c.HTTPS)
	registerDirectory(fs, &c.Directory)
	return fs.String("config", os.Getenv("LANYARD_CONFIG"), "config file of NAME = VALUE lines, NAME as the flags (env LANYARD_CONFIG)")
}

// EnvName returns the environment variable of a flag: --smtp-addr is
// LANYARD_SMTP_ADDR.
func EnvName(flagName string) string {
	return "LANYARD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Apply fills every flag not set on the command line from the environment,
// then from the config file, so flags win over the environment and the
// environment wins over the file.
func Apply(fs *flag.FlagSet, file string, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	fileValues, err := readFile(file)
	if err != nil {
		return err
	}
	var firstErr error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == "config" || firstErr != nil {
			return
		}
		if v := getenv(EnvName(f.Name)); v != "" {
			if err := f.Value.Set(v); err != nil {
				firstErr = fmt.Errorf("%s=%q: %v", EnvName(f.Name), v, err)
			}
		} else if v, ok := fileValues[f.Name]; ok {
			if err := f.Value.Set(v); err != nil {
				firstErr = fmt.Errorf("config file %s: %s = %q: %v", file, f.Name, v, err)
			}
			delete(fileValues, f.Name)
		}
	})
	if firstErr != nil {
		return firstErr
	}
	all := flag.NewFlagSet("all", flag.ContinueOnError)
	Register(all, new(Config))
	for name := range fileValues {
		if all.Lookup(name) == nil {
			return fmt.Errorf("config file %s: unknown setting %q", file, name)
		}
	}
	return nil
}

// readFile reads NAME = VALUE lines; # starts a comment line.
func readFile(path string) (map[string]string, error) {
	values := map[string]string{}
	if path == "" {
		return values, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("config file %s line %d: want NAME = VALUE", path, n)
		}
		values[strings.TrimSpace(name)] = strings.Trim(strings.TrimSpace(value), `"`)
	}
	return values, sc.Err()
}
