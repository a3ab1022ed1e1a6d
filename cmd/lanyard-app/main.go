// Command lanyard-app is the reference Lanyard mobile app as a
// command-line program. It keeps its profiles in a wallet folder protected
// by a PIN, enrolls from a QR code or an enrollment link, fetches
// recovered keys, signs, decrypts and authenticates, and speaks to the
// server only through the public app API (package appclient), exactly as
// a phone app would.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// app is what a command may touch of the world, passed in so that tests
// run commands in-process, and the options every command shares.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	walletDir string
	pinFile   string
}

// command is one subcommand of lanyard-app.
type command struct {
	name, summary string
	run           func(ctx context.Context, a *app, args []string) error
}

// commands returns the subcommands in the order the usage lists them.
func commands() []command {
	return []command{
		{"enroll", "activate a mobile ID from its QR code or link", runEnroll},
		{"profiles", "list the profiles in the wallet", runProfiles},
		{"sync", "fetch state and recovered encryption keys", runSync},
		{"sign", "sign a file (detached CMS, DER)", runSign},
		{"decrypt", "decrypt a CMS message", runDecrypt},
		{"authenticate", "authenticate to a server", runAuthenticate},
		{"approve", "approve a login with the mobile ID", runApprove},
		{"version", "print the version", runVersion},
	}
}

// run is main without the process: it returns the exit code, 0 for
// success, 1 for a failure and 2 for bad usage.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	fs := a.flagSet("", "", "")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		printUsage(stdout)
		return 0
	} else if err != nil {
		return exitCode(stderr, usageError("", err))
	}
	rest := fs.Args()
	if len(rest) == 0 {
		printUsage(stderr)
		return 2
	}
	if rest[0] == "help" {
		if len(rest) == 1 {
			printUsage(stdout)
			return 0
		}
		rest = []string{rest[1], "--help"}
	}
	for _, c := range commands() {
		if c.name == rest[0] {
			return exitCode(stderr, c.run(ctx, a, rest[1:]))
		}
	}
	fmt.Fprintf(stderr, "lanyard-app: unknown command %q; see 'lanyard-app --help'\n", rest[0])
	return 2
}

// printUsage prints the overview of the program.
func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: lanyard-app --wallet DIR [--pin-file F] COMMAND [flags] [arguments]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nThe PIN is read from --pin-file F (a trailing newline is ignored) or $LANYARD_APP_PIN.")
	fmt.Fprintln(w, "Run 'lanyard-app COMMAND --help' for the flags of a command.")
}

// exitCode prints err as one line and maps it to the exit code.
func exitCode(stderr io.Writer, err error) int {
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "lanyard-app: %s\n", oneLine(err))
		return 2
	}
	fmt.Fprintf(stderr, "lanyard-app: %s\n", oneLine(err))
	return 1
}

// oneLine renders err for stderr on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(render(err)), " ")
}

// render returns err's text with domain errors shown by their message
// for a person and API errors by message and code, keeping the context
// that wrapping added in front of them.
func render(err error) string {
	switch e := err.(type) {
	case *appclient.APIError:
		return e.Message + " (" + e.Code + ")"
	case *lanyard.Error:
		return e.Message
	}
	inner := errors.Unwrap(err)
	if inner == nil {
		return err.Error()
	}
	if prefix, ok := strings.CutSuffix(err.Error(), inner.Error()); ok {
		return prefix + render(inner)
	}
	return err.Error()
}
