package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/options"
)

func runOptions(ctx context.Context, e env, args []string) error {
	return runSubcommand(ctx, e, "options", args, map[string]func(context.Context, env, []string) error{
		"show": runOptionsShow, "set": runOptionsSet, "test": runOptionsTest,
	})
}

// runSubcommand dispatches to the subcommands of a command group.
func runSubcommand(ctx context.Context, e env, group string, args []string, subs map[string]func(context.Context, env, []string) error) error {
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(e.stdout, "Usage: lanyard %s %s [flags] [arguments]\n\nRun 'lanyard %s SUBCOMMAND --help' for details.\n", group, strings.Join(names, "|"), group)
		if len(args) == 0 {
			return fmt.Errorf("%w: missing subcommand", errUsage)
		}
		return errHelp
	}
	sub, ok := subs[args[0]]
	if !ok {
		return fmt.Errorf("%w: unknown subcommand %q of %s", errUsage, args[0], group)
	}
	return sub(ctx, e, args[1:])
}

func runOptionsShow(ctx context.Context, e env, args []string) error {
	var version int
	setup := func(fs flagSet) { fs.IntVar(&version, "version", 0, "show this version instead of the current one") }
	return adminCommand(ctx, e, "options show", "options show [PROCESS] [--version N]", args, 0, 1, setup, func(a *app, pos []string) error {
		if err := a.openOptions(ctx); err != nil {
			return err
		}
		if len(pos) == 0 {
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROCESS\tVERSION\tSAVED\tBY")
			for _, p := range options.Processes() {
				sc, err := a.options.Current(ctx, p)
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", p, sc.Version, sc.CreatedAt.Format("2006-01-02 15:04"), sc.CreatedBy)
			}
			return tw.Flush()
		}
		sc, err := a.options.Current(ctx, pos[0])
		if err == nil && version > 0 {
			sc, err = a.db.FindScript(ctx, pos[0], version)
		}
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, sc.Source)
		return nil
	})
}

func runOptionsSet(ctx context.Context, e env, args []string) error {
	var dryRunUser string
	setup := func(fs flagSet) {
		fs.StringVar(&dryRunUser, "user", "", "also dry-run the script for this user and warn if it fails")
	}
	return adminCommand(ctx, e, "options set", "options set PROCESS FILE [--user USERNAME]", args, 2, 2, setup, func(a *app, pos []string) error {
		if err := a.openOptions(ctx); err != nil {
			return err
		}
		src, err := readScript(e, pos[1])
		if err != nil {
			return err
		}
		sc, warning, err := a.options.Save(ctx, lanyard.CLIActor, pos[0], src, dryRunUser)
		if err != nil {
			return err
		}
		if warning != "" {
			fmt.Fprintf(e.stderr, "lanyard: warning: %s\n", oneLine(lanyard.Errorf(lanyard.EINVALID, "%s", warning)))
		}
		fmt.Fprintf(e.stdout, "saved %s version %d\n", sc.Process, sc.Version)
		return nil
	})
}

func runOptionsTest(ctx context.Context, e env, args []string) error {
	var username, file string
	var asJSON bool
	setup := func(fs flagSet) {
		fs.StringVar(&username, "user", "", "the user to evaluate the script for (required)")
		fs.StringVar(&file, "file", "", "test this script file instead of the saved one")
		fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	}
	const usage = "options test PROCESS --user USERNAME [--file F] [--json]"
	return adminCommand(ctx, e, "options test", usage, args, 1, 1, setup, func(a *app, pos []string) error {
		if err := a.openOptions(ctx); err != nil {
			return err
		}
		if username == "" {
			return fmt.Errorf("%w: --user is required; usage: lanyard %s", errUsage, usage)
		}
		var src string
		if file != "" {
			var err error
			if src, err = readScript(e, file); err != nil {
				return err
			}
		} else {
			sc, err := a.options.Current(ctx, pos[0])
			if err != nil {
				return err
			}
			src = sc.Source
		}
		result, err := a.options.DryRun(ctx, pos[0], src, username)
		if err != nil {
			return err
		}
		if asJSON {
			return json.NewEncoder(e.stdout).Encode(result)
		}
		keys := make([]string, 0, len(result))
		for k := range result {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v, _ := json.Marshal(result[k])
			fmt.Fprintf(e.stdout, "%s = %s\n", k, v)
		}
		return nil
	})
}

// readScript reads a script file, or stdin for "-".
func readScript(e env, path string) (string, error) {
	if path == "-" {
		// Read whole: the options engine refuses a script over its limit,
		// and a script keeps its last newline like one read from a file.
		b, err := io.ReadAll(io.LimitReader(e.stdin, 1<<20))
		if err != nil {
			return "", fmt.Errorf("read script: %w", err)
		}
		return string(b), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read script: %w", err)
	}
	return string(b), nil
}
