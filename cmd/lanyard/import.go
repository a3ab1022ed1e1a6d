package main

import (
	"context"
	"fmt"
	"os"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/userimport"
)

func runUserImport(ctx context.Context, e env, args []string) error {
	const usage = "user import FILE.csv"
	return adminCommand(ctx, e, "user import", usage, args, 1, 1, nil, func(a *app, pos []string) error {
		f, err := os.Open(pos[0])
		if err != nil {
			return fmt.Errorf("open %s: %w", pos[0], err)
		}
		defer f.Close()
		n, err := userimport.Import(ctx, a.users, lanyard.CLIActor, f)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "imported %d users\n", n)
		return nil
	})
}
