package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/lanyard-id/lanyard/internal/cli"
	"github.com/lanyard-id/lanyard/internal/wallet"
)

// errHelp is returned after --help printed the usage: exit code 0.
var errHelp = errors.New("help")

// errUsage marks bad usage: exit code 2 instead of 1.
var errUsage = errors.New("bad usage")

// flags is the flag set of one command with its usage text.
type flags struct {
	*flag.FlagSet
	a              *app
	usage, summary string
}

// flagSet returns a flag set that knows the options every command
// shares, --wallet and --pin-file, so that they may stand before or after
// the command. Errors are reported by the caller, not printed.
func (a *app) flagSet(name, usage, summary string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&a.walletDir, "wallet", a.walletDir, "the wallet folder `DIR`")
	fs.StringVar(&a.pinFile, "pin-file", a.pinFile, "read the PIN from `FILE` (- for standard input) instead of $LANYARD_APP_PIN")
	return &flags{FlagSet: fs, a: a, usage: usage, summary: summary}
}

// parse parses args allowing flags before and after positional
// arguments; "--" ends the flags. --help prints the usage and returns
// errHelp.
func (f *flags) parse(args []string) ([]string, error) {
	pos, err := cli.Parse(f.FlagSet, args)
	if errors.Is(err, flag.ErrHelp) {
		f.printHelp()
		return nil, errHelp
	} else if err != nil {
		return nil, usageError(f.Name(), err)
	}
	return pos, nil
}

// inputFile parses a command that takes only flags, checks that --in and
// --out were given, and reads the --in file, which is what in names.
func (f *flags) inputFile(args []string, what string) ([]byte, error) {
	pos, err := f.parse(args)
	if err != nil {
		return nil, err
	}
	if err := f.want(pos, 0, 0); err != nil {
		return nil, err
	}
	if err := f.required("in", "out"); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(f.Lookup("in").Value.String())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return b, nil
}

// printHelp prints the command's usage, summary and flags to stdout.
func (f *flags) printHelp() {
	w := f.a.stdout
	fmt.Fprintf(w, "Usage: lanyard-app %s\n\n%s\n\nFlags:\n", f.usage, f.summary)
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}

// want checks the number of positional arguments.
func (f *flags) want(args []string, min, max int) error {
	if len(args) < min || len(args) > max {
		return fmt.Errorf("%w: expected 'lanyard-app %s' (see 'lanyard-app %s --help')", errUsage, f.usage, f.Name())
	}
	return nil
}

// required checks that the named flags, which the command needs, were
// given.
func (f *flags) required(names ...string) error {
	for _, name := range names {
		if f.Lookup(name).Value.String() == "" {
			return fmt.Errorf("%w: %s needs --%s (see 'lanyard-app %s --help')", errUsage, f.Name(), name, f.Name())
		}
	}
	return nil
}

// usageError wraps a flag parsing error as bad usage.
func usageError(command string, err error) error {
	if command == "" {
		return fmt.Errorf("%w: %v (see 'lanyard-app --help')", errUsage, err)
	}
	return fmt.Errorf("%w: %v (see 'lanyard-app %s --help')", errUsage, err, command)
}

// openWallet parses a command that takes only flags and opens the wallet.
func (f *flags) openWallet(args []string) (*wallet.Wallet, error) {
	pos, err := f.parse(args)
	if err != nil {
		return nil, err
	}
	if err := f.want(pos, 0, 0); err != nil {
		return nil, err
	}
	return f.a.openWallet()
}
