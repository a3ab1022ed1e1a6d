package options_test

import (
	"testing"

	"github.com/lanyard-id/lanyard/internal/options"
)

func TestDiff(t *testing.T) {
	cases := []struct{ name, old, new, want string }{
		{"same", "a\nb\n", "a\nb\n", ""},
		{"changed line", "a\nb\nc\n", "a\nB\nc\n", "- b\n+ B"},
		{"added", "a\n", "a\nb\n", "+ b"},
		{"removed", "a\nb\n", "b\n", "- a"},
		{"from nothing", "", "x = 1\n", "+ x = 1"},
		{"crlf", "a\r\nb\r\n", "a\nb\n", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := options.Diff(tc.old, tc.new); got != tc.want {
				t.Fatalf("Diff = %q, want %q", got, tc.want)
			}
		})
	}
}
