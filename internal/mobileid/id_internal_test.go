package mobileid

import (
	"regexp"
	"testing"
	"time"
)

// TestIDsSortAsMade: identifiers look as random ones do (26 base32
// characters), differ when made in the same millisecond, and sort in the
// order they were made, milliseconds apart.
func TestIDsSortAsMade(t *testing.T) {
	format := regexp.MustCompile(`^[A-Z2-7]{26}$`)
	seen := map[string]bool{}
	prev := newID()
	for range 5 {
		time.Sleep(2 * time.Millisecond)
		same := []string{newID(), newID(), newID()}
		for _, id := range same {
			if !format.MatchString(id) {
				t.Fatalf("%q is not 26 base32 characters", id)
			}
			if seen[id] {
				t.Fatalf("%q made twice", id)
			}
			seen[id] = true
		}
		if same[0] <= prev {
			t.Errorf("%q, made later, sorts before %q", same[0], prev)
		}
		if same[0][10:] == same[1][10:] {
			t.Errorf("%q and %q share their random part", same[0], same[1])
		}
		prev = same[2]
	}
}
