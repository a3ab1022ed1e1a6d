package options

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lanyard-id/lanyard"
	"go.starlark.net/syntax"
)

// suggest returns the candidate nearest to name by edit distance, or ""
// when none is near enough to be a likely misspelling. Case is ignored,
// and a candidate qualifies when at most a third of its letters differ.
func suggest(name string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		d := distance(strings.ToLower(name), strings.ToLower(c))
		if d > max(1, len(c)/3) {
			continue
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// distance is the Levenshtein edit distance between a and b, counted in
// bytes: the names compared are Starlark identifiers, mostly ASCII.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// didYouMean returns ": did you mean X?" for the candidate nearest to
// name, or "" when none is near.
func didYouMean(name string, candidates []string) string {
	if s := suggest(name, candidates); s != "" {
		return ": did you mean " + s + "?"
	}
	return ""
}

// at prefixes msg with the line and column of pos, when pos is known.
func at(pos syntax.Position, msg string) string {
	if !pos.IsValid() || pos.Line <= 0 {
		return msg
	}
	if pos.Col <= 0 {
		return fmt.Sprintf("line %d: %s", pos.Line, msg)
	}
	return fmt.Sprintf("line %d, column %d: %s", pos.Line, pos.Col, msg)
}

// invalid returns the EINVALID error of a script problem at pos.
func invalid(pos syntax.Position, format string, args ...any) error {
	return lanyard.Errorf(lanyard.EINVALID, "%s", at(pos, fmt.Sprintf(format, args...)))
}

// quote quotes s the way Starlark writes a string, shortened so that an
// error message stays one readable line.
func quote(s string) string {
	const limit = 60
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "…"
	}
	return strconv.Quote(s)
}
