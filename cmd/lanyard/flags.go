package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/lanyard-id/lanyard"
	cmdline "github.com/lanyard-id/lanyard/internal/cli"
	"github.com/lanyard-id/lanyard/internal/config"
)

// errHelp is returned after --help printed the usage: exit code 0.
var errHelp = errors.New("help")

// newFlagSet returns a flag set that prints its usage to stdout and reports
// errors instead of exiting.
func newFlagSet(e env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: lanyard %s\n\nFlags (each also read from LANYARD_<NAME>, then from --config):\n", usage)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// newHelpFlagSet is newFlagSet for a command whose flags are its own (not
// read from the environment or a config file), with a paragraph of help
// before them.
func newHelpFlagSet(e env, name, usage, help string) *flag.FlagSet {
	fs := newFlagSet(e, name, usage)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: lanyard %s\n\n%s\n\nFlags:\n", usage, help)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseFlags parses args allowing flags before and after positional
// arguments, as every lanyard command promises. "--" ends the flags.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := cmdline.Parse(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, errHelp // the flag set printed the usage already
	} else if err != nil {
		return nil, fmt.Errorf("%w: %v (see --help)", errUsage, err)
	}
	return pos, nil
}

// wantArgs checks the number of positional arguments.
func wantArgs(args []string, min, max int, usage string) error {
	if len(args) < min || (max >= 0 && len(args) > max) {
		return fmt.Errorf("%w: usage: lanyard %s", errUsage, usage)
	}
	return nil
}

// flagSet is where a command defines its own flags.
type flagSet = *flag.FlagSet

// loadConfig parses the command line of a command into a configuration,
// applies the environment and the config file, and validates it.
func loadConfig(e env, name, usage string, args []string) (config.Config, []string, error) {
	return loadConfigWith(e, name, usage, args, nil)
}

// loadConfigWith is loadConfig for a command that defines flags of its own
// in setup, besides the settings every command shares.
func loadConfigWith(e env, name, usage string, args []string, setup func(flagSet)) (config.Config, []string, error) {
	cfg := config.Default()
	fs := newFlagSet(e, name, usage)
	if setup != nil {
		setup(fs)
	}
	file := config.Register(fs, &cfg)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return cfg, nil, err
	}
	if err := config.Apply(fs, *file, e.getenv); err != nil {
		return cfg, nil, err
	}
	if err := cfg.Validate(); errors.Is(err, config.ErrUsage) {
		return cfg, nil, fmt.Errorf("%w: %s", errUsage, strings.TrimPrefix(err.Error(), config.ErrUsage.Error()+": "))
	} else if err != nil {
		return cfg, nil, err
	}
	return cfg, pos, nil
}

// oneLine renders err for stderr: a domain error's message, or the wrapped
// chain of an internal error, on one line.
func oneLine(err error) string {
	msg := err.Error()
	var le *lanyard.Error
	if errors.As(err, &le) {
		msg = le.Message
	}
	return strings.Join(strings.Fields(msg), " ")
}

// readSecretFile reads a password from a file, or from stdin for "-".
func readSecretFile(e env, path string) (string, error) {
	return cmdline.ReadSecret(e.stdin, path, "password file")
}

// multiFlag collects a flag that may repeat.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// parseAttrs reads NAME=VALUE pairs into attrs.
func parseAttrs(pairs []string, attrs map[string]string) error {
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return fmt.Errorf("%w: --attr %q: want NAME=VALUE", errUsage, p)
		}
		attrs[k] = v
	}
	return nil
}
