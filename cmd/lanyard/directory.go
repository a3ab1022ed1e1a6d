package main

import (
	"context"
	"crypto/tls"
	"fmt"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/directory"
	"github.com/lanyard-id/lanyard/internal/web"
	"github.com/prometheus/client_golang/prometheus"
)

func runDirectory(ctx context.Context, e env, args []string) error {
	const usage = "directory sync [--dry-run] [flags]"
	if len(args) == 0 || args[0] != "sync" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintf(e.stdout, "Usage: lanyard %s\n\nReads the users from the LDAP directory of --ldap-url now and prints what changed.\n", usage)
			return errHelp
		}
		return fmt.Errorf("%w: usage: lanyard %s", errUsage, usage)
	}
	var dryRun bool
	setup := func(fs flagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "say what would change, and change nothing")
	}
	return adminCommand(ctx, e, "directory sync", usage, args[1:], 0, 0, setup, func(a *app, _ []string) error {
		if !a.cfg.Directory.Enabled() {
			return fmt.Errorf("%w: directory sync needs --ldap-url and the other --ldap- settings", errUsage)
		}
		if err := a.openCA(ctx); err != nil {
			return err
		}
		syncer, err := a.openDirectory()
		if err != nil {
			return err
		}
		run, err := syncer.Sync(ctx, "cli", dryRun)
		if err != nil {
			return fmt.Errorf("directory: %s", run.Error)
		}
		// Entries left out are reported beside the one line of result.
		for _, c := range run.Result.Changes {
			if c.Kind == lanyard.DirectoryConflict || c.Kind == lanyard.DirectorySkipped {
				fmt.Fprintf(e.stderr, "directory: %s %s: %s\n", c.Kind, c.Username, c.Detail)
			}
		}
		fmt.Fprintln(e.stdout, run.Result.Summary())
		return nil
	})
}

// openDirectory connects the directory of the configuration to the users
// and the mobile ID service (which openCA opens); Close releases it.
func (a *app) openDirectory() (*directory.Syncer, error) {
	if a.directory != nil {
		return a.directory, nil
	}
	c := a.cfg.Directory
	pw, err := c.LDAPBindPassword()
	if err != nil {
		return nil, err
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.LDAPCAFile != "" {
		if tlsCfg.RootCAs, err = loadCAPool("--ldap-ca-file", c.LDAPCAFile); err != nil {
			return nil, err
		}
	}
	dir, err := directory.New(directory.Config{
		URL: c.LDAPURL, BindDN: c.LDAPBindDN, BindPassword: pw, BaseDN: c.LDAPBaseDN, Schema: c.LDAPSchema,
		UserFilter: c.LDAPUserFilter, AttrUsername: c.LDAPAttrUsername, AttrEmail: c.LDAPAttrEmail, AttrName: c.LDAPAttrName,
		Attributes: c.LDAPAttributeList(), GroupOperator: c.LDAPGroupOperator, GroupAdmin: c.LDAPGroupAdmin,
		StartTLS: c.LDAPStartTLS, TLS: tlsCfg, Timeout: c.LDAPTimeout,
	})
	if err != nil {
		return nil, err
	}
	a.directory = &directory.Syncer{
		Dir: dir, Store: a.db, States: a.mobile, Logger: a.logger,
		MaxDeactivatePercent: c.MaxDeactivatePercent(), Interval: c.LDAPSyncInterval,
	}
	return a.directory, nil
}

// serveDirectory lets directory users log in to srv by binding to the
// directory, and adds the directory to Admin, /readyz and /metrics. It
// returns nil when no directory is configured.
func (a *app) serveDirectory(srv *web.Server, registry *prometheus.Registry) (*directory.Syncer, error) {
	if !a.cfg.Directory.Enabled() {
		return nil, nil
	}
	syncer, err := a.openDirectory()
	if err != nil {
		return nil, err
	}
	srv.Users = &directory.Users{UserService: a.users, Store: a.db, Dir: syncer.Dir}
	srv.Directory = syncer
	for _, c := range syncer.Collectors() {
		if err := registry.Register(c); err != nil {
			return nil, fmt.Errorf("register directory metrics: %w", err)
		}
	}
	a.logger.Info("users come from the directory", "url", a.cfg.LDAPURL, "base", a.cfg.LDAPBaseDN, "schema", a.cfg.LDAPSchema, "interval", a.cfg.LDAPSyncInterval)
	return syncer, nil
}
