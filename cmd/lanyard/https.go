package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/secret"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/tlsserve"
)

// https is how serve speaks TLS: nothing (plain HTTP, perhaps behind a
// proxy), certificate files, or ACME; and its optional plain-HTTP port.
type https struct {
	tls    *tls.Config // nil: plain HTTP on --listen
	watch  func(ctx context.Context)
	acme   *tlsserve.ACME
	plain  *http.Server // --listen-http, or nil
	ln     net.Listener // of plain
	logger *slog.Logger
}

// setupHTTPS reads the certificate files or prepares the ACME client, and
// opens --listen-http, so that every problem shows before serving starts.
func (a *app) setupHTTPS(ctx context.Context) (*https, error) {
	h := &https{logger: a.logger}
	switch {
	case a.cfg.TLSCert != "":
		f, err := tlsserve.LoadFiles(a.cfg.TLSCert, a.cfg.TLSKey, a.logger)
		if err != nil {
			return nil, err
		}
		h.tls = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: f.GetCertificate}
		h.watch = f.Watch
	case a.cfg.ACMEDomain != "":
		master, err := pki.LoadMasterKey(a.cfg.MasterKeyFile, a.cfg.DataDir)
		if err != nil {
			return nil, err
		}
		box, err := secret.New(master, "acme cache")
		if err != nil {
			return nil, err
		}
		client, err := acmeHTTPClient(a.cfg.ACMECAFile)
		if err != nil {
			return nil, err
		}
		h.acme = tlsserve.NewACME(tlsserve.ACMEConfig{
			Domain: a.cfg.ACMEDomain, DirectoryURL: a.cfg.ACMEDirectoryURL(), Email: a.cfg.ACMEEmail,
			Cache: &tlsserve.Cache{Store: store.NewACMECache(a.db), Box: box, Domain: a.cfg.ACMEDomain, Holder: rand.Text()}, HTTPClient: client,
		})
		h.tls = h.acme.TLSConfig()
		h.tls.MinVersion = tls.VersionTLS12
	}
	if a.cfg.ListenHTTP != "" {
		var handler http.Handler = tlsserve.Redirect(a.cfg.BaseURL())
		if h.acme != nil {
			handler = h.acme.HTTPHandler(handler)
		}
		ln, err := net.Listen("tcp", a.cfg.ListenHTTP)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", a.cfg.ListenHTTP, err)
		}
		h.ln = ln
		h.plain = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 64 << 10}
	}
	return h, nil
}

// serve runs hs on ln, with TLS when configured, and the plain-HTTP port,
// until hs is shut down; ctx ends the certificate files' watch.
func (h *https) serve(ctx context.Context, hs *http.Server, ln net.Listener) error {
	if h.plain != nil {
		go func() {
			if err := h.plain.Serve(h.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				h.logger.Error("plain HTTP listener stopped", "err", err)
			}
		}()
		go func() {
			<-ctx.Done()
			h.plain.Close()
		}()
	}
	if h.tls == nil {
		return hs.Serve(ln)
	}
	if h.watch != nil {
		go h.watch(ctx)
	}
	// Failed handshakes (scanners, clients that distrust the certificate,
	// ACME names not yet issued) are routine on an open port: debug lines.
	if hs.ErrorLog == nil {
		hs.ErrorLog = slog.NewLogLogger(h.logger.Handler(), slog.LevelDebug)
	}
	hs.TLSConfig = h.tls
	return hs.ServeTLS(ln, "", "")
}

// close releases the plain-HTTP port when serving never started.
func (h *https) close() {
	if h.ln != nil {
		h.ln.Close()
	}
}

// acmeHTTPClient is the client that talks to the ACME CA: the default one,
// or one that trusts only the CAs of caFile, for an internal ACME CA.
func acmeHTTPClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return nil, nil
	}
	pool, err := loadCAPool("--acme-ca-file", caFile)
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t, Timeout: time.Minute}, nil
}

// loadCAPool reads the PEM certificates of a file that a setting (flag)
// names as the CAs to trust.
func loadCAPool(flag, file string) (*x509.CertPool, error) {
	pemData, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		return nil, fmt.Errorf("%s %s: no PEM certificate in it", flag, file)
	}
	return pool, nil
}
