package cli_test

import (
	"errors"
	"flag"
	"io"
	"slices"
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
