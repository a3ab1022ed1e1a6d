package main

import (
	"bufio"
	"context"
	"fmt"

	"github.com/lanyard-id/lanyard/internal/password"
)

const benchUsersUsage = "bench users --users N --password-file F [--without-password M] [--user-prefix P]"

const benchUsersHelp = `Writes to stdout a CSV file for 'lanyard user import' with the users that
'lanyard bench' logs in as: <user-prefix>1 to <user-prefix>N, active, all
with the password of the file, given as one argon2id hash (in PHC form) that
they share, so that importing them hashes nothing. --without-password adds M
users with no password (<user-prefix>-none-1 …), as a large directory has,
who cannot log in and make the database the size to measure at.`

// runBenchUsers writes the users of a benchmark as an import file.
func runBenchUsers(_ context.Context, e env, args []string) error {
	var users, without int
	var pwFile string
	prefix := "benchuser"
	fs := newHelpFlagSet(e, "bench users", benchUsersUsage, benchUsersHelp)
	fs.IntVar(&users, "users", 0, "number of users with the password (required)")
	fs.StringVar(&pwFile, "password-file", "", "file holding their password; - reads stdin (required)")
	fs.IntVar(&without, "without-password", 0, "number of further users without a password")
	fs.StringVar(&prefix, "user-prefix", prefix, "prefix of the usernames")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, 0, benchUsersUsage); err != nil {
		return err
	}
	switch {
	case users < 1:
		return fmt.Errorf("%w: --users must be at least 1", errUsage)
	case without < 0:
		return fmt.Errorf("%w: --without-password must not be negative", errUsage)
	case pwFile == "":
		return fmt.Errorf("%w: --password-file is required (see --help)", errUsage)
	case prefix == "":
		return fmt.Errorf("%w: --user-prefix must not be empty", errUsage)
	}
	pw, err := readSecretFile(e, pwFile)
	if err != nil {
		return err
	}
	if pw == "" {
		return fmt.Errorf("the password file %s is empty", pwFile)
	}
	// Quoted: the hash holds commas.
	hash := `"` + password.Hash(pw, passwordParams(e.getenv)) + `"`
	w := bufio.NewWriterSize(e.stdout, 1<<16)
	fmt.Fprintln(w, "username,email,common_name,state,roles,password")
	for i := 1; i <= users; i++ {
		fmt.Fprintf(w, "%s%d,%[1]s%[2]d@bench.invalid,Bench User %[2]d,active,user,%s\n", prefix, i, hash)
	}
	for i := 1; i <= without; i++ {
		fmt.Fprintf(w, "%s-none-%d,%[1]s-none-%[2]d@bench.invalid,Bench Directory User %[2]d,active,user,\n", prefix, i)
	}
	return w.Flush()
}
