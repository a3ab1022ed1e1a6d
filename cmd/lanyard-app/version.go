package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/lanyard-id/lanyard"
)

// runVersion prints the version of the program and of Go.
func runVersion(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("version", "version", "Print the version of lanyard-app.")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := fs.want(pos, 0, 0); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "lanyard-app %s %s\n", lanyard.Version, runtime.Version())
	return nil
}
