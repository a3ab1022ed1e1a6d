package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/appapi"
	"github.com/lanyard-id/lanyard/internal/mail"
	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/web"
	"github.com/prometheus/client_golang/prometheus"
)

func runServe(ctx context.Context, e env, args []string) error {
	cfg, pos, err := loadConfig(e, "serve", "serve [flags]", args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, 0, "serve [flags]"); err != nil {
		return err
	}
	a, err := openApp(ctx, e, cfg, e.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.openCA(ctx); err != nil {
		return err
	}
	if err := a.ensureAdmin(ctx, e); err != nil {
		return err
	}
	if err := a.repair(ctx); err != nil {
		return err
	}
	weak, err := a.db.Undurable(ctx)
	if err != nil {
		return err
	}
	if len(weak) > 0 {
		a.logger.Warn("the database may lose its last commits if its machine crashes", "settings", strings.Join(weak, ", "))
	}

	a.sessions.IdleTimeout = cfg.SessionIdle
	a.sessions.Policy = lanyard.LoginPolicy{UserFree: cfg.LoginUserLimit, AddrFree: cfg.LoginAddrLimit,
		MaxDelay: cfg.LoginMaxDelay, LockAfter: cfg.LoginLockAfter}
	proxies, err := cfg.TrustedProxyPrefixes()
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	srv := &web.Server{
		Registry:   registry,
		AuditChain: a.db, AuditKey: a.auditKey.Public(),
		Users: a.users, Sessions: a.sessions, Throttle: a.sessions, Limiter: a.sessions, Audit: a.db, Options: a.options, MobileIDs: a.mobile, Outbox: a.outbox, Stats: a.db,
		Logger: a.logger, Ready: a.db.Ready,
		SessionTTL:    cfg.SessionTTL,
		SecureCookies: cfg.CookieSecure == "always" || (cfg.CookieSecure == "auto" && strings.HasPrefix(cfg.BaseURL(), "https://")),
		Hashing:       password.GateFor(passwordParams(e.getenv)), TrustedProxies: proxies,
	}
	if cfg.MetricsTokenFile != "" {
		if srv.MetricsToken, err = readSecretFile(e, cfg.MetricsTokenFile); err != nil {
			return fmt.Errorf("--metrics-token-file: %w", err)
		}
	}
	directorySync, err := a.serveDirectory(srv, registry)
	if err != nil {
		return err
	}
	api := &appapi.API{MobileIDs: a.mobile, Limiter: a.sessions, Logger: a.logger, EnrollLimit: 20, EnrollWindow: 15 * time.Minute, Registry: registry, Ready: a.db.Ready}
	srv.PKI = a.ca.Handler()
	registerOCSPMetrics(registry, a.ca)
	registerDatabaseMetrics(registry, a.db)
	if srv.OIDC, err = a.openOIDC(); err != nil {
		return err
	}
	srv.Mount = func(mux *http.ServeMux) {
		api.RegisterRoutes(mux)
	}
	// Every setting is read before the port opens, so a bad one never
	// shows as a ready server that then stops.
	sender, err := a.mailSender(e)
	if err != nil {
		return err
	}
	if sender != nil {
		sender.Delivered = mail.NewDeliveredCounter(registry)
	}
	tlsSetup, err := a.setupHTTPS(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		tlsSetup.close()
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	var metricsLn net.Listener
	if cfg.MetricsListen != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s: %w", cfg.MetricsListen, err)
		}
	}
	a.logger.Info("lanyard serving", "version", lanyard.Version, "addr", ln.Addr().String(),
		"url", cfg.BaseURL(), "tls", tlsSetup.tls != nil, "database", string(a.db.Dialect()))
	errc := make(chan error, 1)
	go func() { errc <- tlsSetup.serve(ctx, hs, ln) }()
	if metricsLn != nil {
		// The metrics listener serves /metrics alone, to whoever reaches
		// its address: it belongs on a private network or loopback.
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", srv.MetricsHandler())
		ms := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
		a.logger.Info("serving metrics", "addr", metricsLn.Addr().String())
		go ms.Serve(metricsLn)
		defer ms.Close()
	}
	jobsDone := make(chan struct{})
	go func() { a.runJobs(ctx, sender); close(jobsDone) }()
	if directorySync != nil {
		// The first sync runs in the background: /healthz and local
		// users do not wait for the directory.
		syncDone := make(chan struct{})
		go func() { directorySync.Run(ctx); close(syncDone) }()
		defer func() { <-syncDone }()
	}
	defer func() { <-jobsDone }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	a.logger.Info("stopped")
	return nil
}

// ensureAdmin creates the administrator when there is none (the first
// start, even if users were added from the shell before it) and prints its
// one-time password once, on stdout and never in the log. When several
// instances start together, the one whose insert wins prints it.
func (a *app) ensureAdmin(ctx context.Context, e env) error {
	if found, err := a.users.AnyUserHas(ctx, lanyard.RoleAdmin); err != nil || found {
		return err
	}
	pw := password.Generate(20)
	u := &lanyard.User{
		Username: "admin", Email: "admin@localhost.localdomain", CommonName: "Administrator",
		State: lanyard.UserActive, Roles: []lanyard.Role{lanyard.RoleUser, lanyard.RoleAdmin}, MustChangePassword: true,
	}
	err := a.users.CreateUser(ctx, lanyard.SystemActor, u, pw)
	if lanyard.ErrorCode(err) == lanyard.ECONFLICT {
		return nil
	} else if err != nil {
		return fmt.Errorf("create administrator: %w", err)
	}
	fmt.Fprintf(e.stdout, "initial admin password: %s\n", pw)
	a.logger.Info("created the administrator 'admin' with a one-time password")
	return nil
}

// mailSender returns the SMTP sender of the configuration, or nil when no
// SMTP server is configured: mail then stays in the outbox.
func (a *app) mailSender(e env) (*mail.Sender, error) {
	if a.cfg.SMTPAddr == "" {
		a.logger.Info("no SMTP server configured; mail stays in the outbox (Admin › Outbox)")
		return nil, nil
	}
	var pw string
	if a.cfg.SMTPPasswordFile != "" {
		var err error
		if pw, err = readSecretFile(e, a.cfg.SMTPPasswordFile); err != nil {
			return nil, fmt.Errorf("--smtp-password-file: %w", err)
		}
	}
	return &mail.Sender{Outbox: a.outbox, Logger: a.logger, RetryAfter: a.cfg.SMTPRetry, Lease: 2 * a.cfg.SMTPTimeout, Config: mail.Config{
		Addr: a.cfg.SMTPAddr, TLS: a.cfg.SMTPTLS, User: a.cfg.SMTPUser, Password: pw, From: a.cfg.MailFrom,
	}}, nil
}

// repair mends what a stopped server left half done before the first
// request: enrollments interrupted after their code was used, certificates
// whose status does not match their mobile ID, and a CRL owed.
func (a *app) repair(ctx context.Context) error {
	n, err := a.mobile.Repair(ctx, 0)
	if err != nil {
		return fmt.Errorf("repair at start: %w", err)
	}
	if n > 0 {
		a.logger.Warn("repaired what a stopped server left half done", "count", n)
	}
	if err := a.ca.PublishOwedCRL(ctx); err != nil {
		return fmt.Errorf("publish the CRL owed: %w", err)
	}
	return nil
}
