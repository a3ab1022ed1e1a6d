// Package cli holds what the lanyard and lanyard-app commands share about
// their command lines.
package cli

import "flag"

// Parse parses args with fs, allowing flags before and after positional
// arguments, as every command of both programs promises; "--" ends the
// flags. It returns the positional arguments, or the error of fs.Parse
// (flag.ErrHelp for --help).
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
