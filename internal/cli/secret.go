package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// maxSecret bounds a password or PIN read from a file or stdin.
const maxSecret = 64 << 10

// ReadSecret reads a password or PIN from the file at path, or from stdin
// when path is "-". The trailing newline that echo and editors leave is not
// part of it, and an empty secret is refused. what names the file in
// errors, such as "password file".
func ReadSecret(stdin io.Reader, path, what string) (string, error) {
	var b []byte
	var err error
	if path == "-" && stdin != nil {
		b, err = io.ReadAll(io.LimitReader(stdin, maxSecret))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	secret := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if secret == "" {
		return "", fmt.Errorf("the %s %s is empty", what, path)
	}
	return secret, nil
}
