package cli_test

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/internal/cli"
)

func TestParse(t *testing.T) {
	cases := []struct {
		args []string
		pos  []string
		v    bool
	}{
		{[]string{"a", "-v", "b"}, []string{"a", "b"}, true},
		{[]string{"-v", "a"}, []string{"a"}, true},
		{[]string{"a", "b"}, []string{"a", "b"}, false},
		{[]string{"a", "--", "-v"}, []string{"a", "-v"}, false},
	}
	for _, tc := range cases {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		v := fs.Bool("v", false, "")
		pos, err := cli.Parse(fs, tc.args)
		if err != nil || !slices.Equal(pos, tc.pos) || *v != tc.v {
			t.Errorf("Parse(%q) = %q, v=%t, %v", tc.args, pos, *v, err)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, err := cli.Parse(fs, []string{"a", "--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	if _, err := cli.Parse(fs, []string{"a", "--nope"}); err == nil {
		t.Error("unknown flag accepted")
	}
}

func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	cases := []struct {
		name, path, stdin, want, err string
	}{
		{"newline", write("a", "secret\n"), "", "secret", ""},
		{"crlf", write("b", "secret\r\n"), "", "secret", ""},
		{"one newline only", write("c", "secret\n\n"), "", "secret\n", ""},
		{"stdin", "-", "from stdin\n", "from stdin", ""},
		{"empty", write("d", "\n"), "", "", "is empty"},
		{"missing", filepath.Join(dir, "none"), "", "", "read password file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cli.ReadSecret(strings.NewReader(tc.stdin), tc.path, "password file")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ReadSecret = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
