package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/lanyard-id/lanyard"
)

func runVersion(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "version", "version")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, 0, "version"); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "lanyard %s %s\n", lanyard.Version, runtime.Version())
	return nil
}
