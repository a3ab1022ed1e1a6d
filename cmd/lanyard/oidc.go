package main

import (
	"context"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/oidc"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/store"
)

func runOIDC(ctx context.Context, e env, args []string) error {
	return runSubcommand(ctx, e, "oidc", args, map[string]func(context.Context, env, []string) error{
		"add-client": runOIDCAddClient, "list-clients": runOIDCListClients, "rotate-key": runOIDCRotateKey,
	})
}

// openOIDC opens the OpenID Connect provider over the database. It needs
// the master key, which seals its signing keys, but not the CA.
func (a *app) openOIDC() (*oidc.Provider, error) {
	master, err := pki.LoadMasterKey(a.cfg.MasterKeyFile, a.cfg.DataDir)
	if err != nil {
		return nil, err
	}
	// The protocol library logs through slog's default logger; its lines
	// belong with the program's, in the program's format.
	slog.SetDefault(a.logger)
	return oidc.New(oidc.Config{
		Issuer: a.cfg.BaseURL(), MasterKey: master, Store: store.NewOIDCStore(a.db), Users: a.users, Logger: a.logger,
		Now: func() time.Time { return a.db.Now() },
	})
}

// runOIDCAddClient registers an application and prints its client ID and,
// for a confidential one, its secret: the only time it is shown.
func runOIDCAddClient(ctx context.Context, e env, args []string) error {
	const usage = "oidc add-client NAME --redirect-uri URI [--redirect-uri URI]... [--public] [--allow-password] [--refresh-tokens] [--post-logout-redirect-uri URI]... [--id-token-alg RS256|ES256]"
	var n oidc.NewClient
	var redirects, logouts multiFlag
	setup := func(fs flagSet) {
		fs.Var(&redirects, "redirect-uri", "a redirect URI, matched exactly (required; may repeat)")
		fs.Var(&logouts, "post-logout-redirect-uri", "where RP-initiated logout may return to (may repeat)")
		fs.BoolVar(&n.Public, "public", false, "a public application: no secret, PKCE required")
		fs.BoolVar(&n.AllowPassword, "allow-password", false, "let password sessions log in too, not only the mobile ID")
		fs.BoolVar(&n.RefreshTokens, "refresh-tokens", false, "give the application refresh tokens when it asks for offline_access")
		fs.StringVar(&n.IDTokenAlg, "id-token-alg", "RS256", "signature of the ID tokens: RS256 or ES256")
	}
	return adminCommand(ctx, e, "oidc add-client", usage, args, 1, 1, setup, func(a *app, pos []string) error {
		if len(redirects) == 0 {
			return fmt.Errorf("%w: --redirect-uri is required; usage: lanyard %s", errUsage, usage)
		}
		n.Name, n.RedirectURIs, n.PostLogoutRedirectURIs = pos[0], redirects, logouts
		// Registering needs no keys: no master key is read.
		c, secret, err := oidc.NewRegistry(store.NewOIDCStore(a.db)).AddClient(ctx, lanyard.CLIActor, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "client_id: %s\n", c.ClientID)
		if secret != "" {
			fmt.Fprintf(e.stdout, "client_secret: %s\n", secret)
		}
		return nil
	})
}

func runOIDCListClients(ctx context.Context, e env, args []string) error {
	return adminCommand(ctx, e, "oidc list-clients", "oidc list-clients", args, 0, 0, nil, func(a *app, _ []string) error {
		cs, err := oidc.NewRegistry(store.NewOIDCStore(a.db)).Clients(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT ID\tNAME\tTYPE\tLOGIN\tSTATE")
		for _, c := range cs {
			kind, login, state := "confidential", "mobile-id", "enabled"
			if c.Public {
				kind = "public"
			}
			if c.AllowPassword {
				login = "mobile-id,password"
			}
			if c.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ClientID, c.Name, kind, login, state)
		}
		return tw.Flush()
	})
}

// runOIDCRotateKey makes new ID token signing keys. The old public keys
// stay in the JWKS for a day, so tokens signed before keep verifying.
func runOIDCRotateKey(ctx context.Context, e env, args []string) error {
	return adminCommand(ctx, e, "oidc rotate-key", "oidc rotate-key", args, 0, 0, nil, func(a *app, _ []string) error {
		p, err := a.openOIDC()
		if err != nil {
			return err
		}
		keys, err := p.RotateKeys(ctx, lanyard.CLIActor)
		if err != nil {
			return err
		}
		for _, k := range keys {
			fmt.Fprintf(e.stdout, "new %s signing key: %s\n", k.Algorithm, k.ID)
		}
		return nil
	})
}
