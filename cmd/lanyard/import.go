package main

import (
	"context"
	"fmt"
	"io"
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
		n, err := userimport.Import(ctx, a.users, lanyard.CLIActor, f, userimport.Options{Progress: progressLine(e.stderr)})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "imported %d users\n", n)
		return nil
	})
}

// progressLine shows the hashing's progress on w: on a terminal one line
// rewritten in place each second; elsewhere, such as in a log, only the
// final line.
func progressLine(w io.Writer) func(userimport.Progress) {
	tty := isTerminal(w)
	return func(p userimport.Progress) {
		switch {
		case tty && p.Done:
			fmt.Fprintf(w, "\r%s\x1b[K\n", p)
		case tty:
			fmt.Fprintf(w, "\r%s\x1b[K", p)
		case p.Done:
			fmt.Fprintf(w, "%s\n", p)
		}
	}
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
