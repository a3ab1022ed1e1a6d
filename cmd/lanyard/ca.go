package main

import (
	"context"
)

func runCA(ctx context.Context, e env, args []string) error {
	return runSubcommand(ctx, e, "ca", args, map[string]func(context.Context, env, []string) error{
		"export": runCAExport,
	})
}

// runCAExport prints the CA chain in PEM, issuing CA first, for relying
// parties that want it from the shell instead of GET /pki/ca.pem.
func runCAExport(ctx context.Context, e env, args []string) error {
	return adminCommand(ctx, e, "ca export", "ca export", args, 0, 0, nil, func(a *app, _ []string) error {
		if err := a.openCA(ctx); err != nil {
			return err
		}
		_, err := e.stdout.Write(a.ca.ChainPEM())
		return err
	})
}
