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
	prev := newPublicID()
	for range 5 {
		time.Sleep(2 * time.Millisecond)
		same := []string{newPublicID(), newPublicID(), newPublicID()}
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

// TestSecretsAreRandomThroughout: activation codes, login tokens and
// challenges are random in every character, not time-ordered as public
// identifiers are: two made in the same millisecond share no prefix.
func TestSecretsAreRandomThroughout(t *testing.T) {
	format := regexp.MustCompile(`^[A-Z2-7]{26}$`)
	a, b := newSecret(), newSecret()
	if !format.MatchString(a) || !format.MatchString(b) {
		t.Fatalf("%q, %q: not 26 base32 characters", a, b)
	}
	if a[:10] == b[:10] {
		t.Errorf("%q and %q share their first 10 characters", a, b)
	}
}
