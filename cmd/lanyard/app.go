package main

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/lanyard-id/lanyard/internal/config"
	"github.com/lanyard-id/lanyard/internal/directory"
	"github.com/lanyard-id/lanyard/internal/mobileid"
	"github.com/lanyard-id/lanyard/internal/options"
	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/store"
)

// app is the wired program: the database and the services over it. serve
// and the administration commands share it, so both see the same data.
type app struct {
	cfg      config.Config
	logger   *slog.Logger
	db       *store.DB
	users    *store.UserService
	sessions *store.SessionService
	options  *options.Service
	ca       *pki.CA
	outbox   *store.Outbox
	mobile   *mobileid.Service
	caKeys   io.Closer // the PKCS#11 key backend, when the CA keys are in a token
	// directory syncs users from LDAP, when --ldap-url is set.
	directory *directory.Syncer
	// auditKey signs the audit log's checkpoints; it lives where the CA
	// keys do.
	auditKey crypto.Signer
}

// insecureFastHash lets LANYARD_INSECURE_FAST_HASH=1 lower the argon2id
// cost, so that the race detector's slowdown stays bearable in tests. Only
// test builds set it: this package's tests, and binaries built with the
// build tag lanyard_insecure_fast_hash for the end-to-end tests. A
// production binary ignores the variable, so no environment can weaken
// its password hashes.
var insecureFastHash = false

// passwordParams is the argon2id cost.
func passwordParams(getenv func(string) string) password.Params {
	if insecureFastHash && getenv("LANYARD_INSECURE_FAST_HASH") == "1" {
		return password.Params{Memory: 1024, Time: 1, Threads: 1}
	}
	return password.Default
}

// openApp opens and migrates the database of cfg.
func openApp(ctx context.Context, e env, cfg config.Config, logOut io.Writer) (*app, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	logger, err := newLogger(cfg, logOut)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.DatabaseDSN())
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a := &app{
		cfg: cfg, logger: logger, db: db,
		users:    store.NewUserService(db, passwordParams(e.getenv)),
		sessions: store.NewSessionService(db),
	}
	return a, nil
}

// openOptions opens the option scripts, storing their defaults on the
// first use; only the commands that read or run scripts open them.
func (a *app) openOptions(ctx context.Context) error {
	if a.options != nil {
		return nil
	}
	o := &options.Service{Store: a.db, Users: a.users, Engine: options.New(options.Config{})}
	if err := o.EnsureDefaults(ctx); err != nil {
		return err
	}
	a.options = o
	return nil
}

// openCA opens the CA (creating it on the first start), the outbox and the
// mobile ID processes over them. Only the commands that touch certificates
// or mail open them, so managing users and options needs no CA keys, and no
// HSM, at hand.
func (a *app) openCA(ctx context.Context) error {
	if a.ca != nil {
		return nil
	}
	if err := a.openOptions(ctx); err != nil {
		return err
	}
	var keys pki.KeyBackend // nil: the software backend
	if a.cfg.CABackend == "pkcs11" {
		b, err := a.openPKCS11()
		if err != nil {
			return err
		}
		keys = b
	}
	// The master key is read once: the CA unseals its keys with it and the
	// outbox derives its own key from it.
	master, err := pki.LoadMasterKey(a.cfg.MasterKeyFile, a.cfg.DataDir)
	if err != nil {
		return err
	}
	ca, err := pki.Open(ctx, store.NewPKIStore(a.db), pki.Config{
		PublicURL: a.cfg.BaseURL(), KeyAlgorithm: pki.KeyAlgorithm(a.cfg.CAKeyAlg),
		MasterKey: master, Backend: keys,
	})
	if err != nil {
		return err
	}
	outbox, err := store.OpenOutbox(a.db, master)
	if err != nil {
		return err
	}
	if a.auditKey, err = ca.AuditSigner(ctx); err != nil {
		return fmt.Errorf("open the audit key: %w", err)
	}
	a.ca, a.outbox = ca, outbox
	a.mobile = &mobileid.Service{
		Store: a.db, Users: a.users, Certs: ca, CA: ca, Options: a.options, Mail: a.outbox, Logger: a.logger, Logins: a.db,
		BaseURL: a.cfg.BaseURL(), ScreenCodeTTL: a.cfg.ScreenCodeTTL, EmailCodeTTL: a.cfg.EmailCodeTTL,
	}
	return nil
}

// openPKCS11 opens the token of --ca-backend pkcs11; Close releases it.
func (a *app) openPKCS11() (*pki.PKCS11Backend, error) {
	pin, err := a.cfg.PKCS11PIN()
	if err != nil {
		return nil, err
	}
	b, err := pki.NewPKCS11Backend(pki.PKCS11Config{Module: a.cfg.PKCS11Module, TokenLabel: a.cfg.PKCS11Token, PIN: pin})
	if err != nil {
		return nil, err
	}
	a.caKeys = b
	return b, nil
}

func (a *app) Close() error {
	if a.ca != nil {
		a.ca.Close()
	}
	if a.caKeys != nil {
		a.caKeys.Close()
	}
	if a.directory != nil {
		a.directory.Dir.Close()
	}
	return a.db.Close()
}

func newLogger(cfg config.Config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// discardUnlessDebug keeps the logs of administration commands off the
// terminal, where their one line of result belongs, unless asked for.
func discardUnlessDebug(cfg config.Config, e env) io.Writer {
	if cfg.LogLevel == "debug" {
		return e.stderr
	}
	return io.Discard
}
