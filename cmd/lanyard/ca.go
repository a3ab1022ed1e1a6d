package main

import (
	"context"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/store"
)

func runCA(ctx context.Context, e env, args []string) error {
	return runSubcommand(ctx, e, "ca", args, map[string]func(context.Context, env, []string) error{
		"export": runCAExport,
	})
}

// runCAExport prints the CA chain in PEM, issuing CA first, for relying
// parties that want it from the shell instead of GET /pki/ca.pem. It reads
// the certificates alone, needing neither the master key nor an HSM; only
// before the first start does it create the CA.
func runCAExport(ctx context.Context, e env, args []string) error {
	return adminCommand(ctx, e, "ca export", "ca export", args, 0, 0, nil, func(a *app, _ []string) error {
		chain, err := pki.ExportChain(ctx, store.NewPKIStore(a.db))
		if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
			if err = a.openCA(ctx); err == nil {
				chain = a.ca.ChainPEM()
			}
		}
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(chain)
		return err
	})
}
