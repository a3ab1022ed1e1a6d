// Command lanyard is the Lanyard server and its administration tool:
// `lanyard serve` runs the portal, the app API and the CA; the other
// commands administer the same database from the shell.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is what a command may touch of the world, passed in so that tests
// run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// errUsage marks bad usage: exit code 2 instead of 1.
var errUsage = errors.New("usage")

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the server", runServe},
		{"user", "manage users: add, import, list, set-state, set-role, set-password", runUser},
		{"options", "show, set and test the option scripts of the processes", runOptions},
		{"directory", "sync the users of the LDAP directory now: directory sync [--dry-run]", runDirectory},
		{"bench", "measure mobile IDs per second on a running server", runBench},
		{"ca", "export the CA chain", runCA},
		{"audit", "verify the audit log's chain and signatures", runAudit},
		{"oidc", "OpenID Connect: add-client, list-clients, rotate-key", runOIDC},
		{"version", "print the version", runVersion},
	}
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return exitCode(stderr, c.run(ctx, e, args[1:]))
		}
	}
	fmt.Fprintf(stderr, "lanyard: unknown command %q; see 'lanyard --help'\n", args[0])
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: lanyard COMMAND [flags] [arguments]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'lanyard COMMAND --help' for the flags of a command.")
}

// exitCode prints err as one line and maps it to the exit code.
func exitCode(stderr io.Writer, err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errReported):
		return 1
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "lanyard: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "lanyard: %s\n", oneLine(err))
	return 1
}
