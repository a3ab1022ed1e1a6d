package options

import (
	"fmt"
	"slices"

	"go.starlark.net/starlark"
)

// reader reads typed options from the globals a script left. It keeps the
// first problem in err and returns zero values after it, so that an
// extract function reads straight through and the caller checks once.
type reader struct {
	run     *run
	globals starlark.StringDict
	err     error
}

// failf records a problem with the option name, placed where the script
// binds it; an empty name places it nowhere.
func (r *reader) failf(name, format string, args ...any) {
	if r.err == nil {
		r.err = invalid(r.run.prog.bound[name], format, args...)
	}
}

// value returns the value of name, or nil after a problem.
func (r *reader) value(name string) starlark.Value {
	if r.err != nil {
		return nil
	}
	v, ok := r.globals[name]
	if !ok {
		r.failf(name, "%s was not set when the script ran: set it on every path through the script", name)
		return nil
	}
	return v
}

func (r *reader) bool(name string) bool {
	v := r.value(name)
	if v == nil {
		return false
	}
	b, ok := v.(starlark.Bool)
	if !ok {
		r.failf(name, "%s must be a bool (True or False), got %s", name, v.Type())
	}
	return bool(b)
}

func (r *reader) int(name string, lo, hi int) int {
	v := r.value(name)
	if v == nil {
		return 0
	}
	return r.intValue(name, name, v, lo, hi)
}

// intValue checks that v, called label in messages and placed where the
// script binds name, is an int from lo to hi.
func (r *reader) intValue(name, label string, v starlark.Value, lo, hi int) int {
	i, ok := v.(starlark.Int)
	if !ok {
		r.failf(name, "%s must be an int, got %s", label, v.Type())
		return 0
	}
	n, ok := i.Int64()
	if !ok || n < int64(lo) || n > int64(hi) {
		r.failf(name, "%s must be between %d and %d, got %s", label, lo, hi, i)
		return 0
	}
	return int(n)
}

// choice reads a string option that must be one of choices.
func (r *reader) choice(name string, choices ...string) string {
	v := r.value(name)
	if v == nil {
		return ""
	}
	s, ok := v.(starlark.String)
	if !ok {
		r.failf(name, "%s must be a string, got %s", name, v.Type())
		return ""
	}
	if !slices.Contains(choices, string(s)) {
		r.failf(name, "%s must be %s, got %s%s", name, quoteAll(choices), quote(string(s)), didYouMean(string(s), choices))
		return ""
	}
	return string(s)
}

// days reads a list or tuple of unique days from lo to hi and returns
// them largest first, the order in which reminders fall due.
func (r *reader) days(name string, lo, hi int) []int {
	v := r.value(name)
	if v == nil {
		return nil
	}
	switch v.(type) {
	case *starlark.List, starlark.Tuple:
	default:
		r.failf(name, "%s must be a list of ints, got %s", name, v.Type())
		return nil
	}
	seq := v.(starlark.Indexable)
	days := make([]int, 0, seq.Len())
	for i := range seq.Len() {
		d := r.intValue(name, fmt.Sprintf("%s[%d]", name, i), seq.Index(i), lo, hi)
		if r.err != nil {
			return nil
		}
		if slices.Contains(days, d) {
			r.failf(name, "%s lists %d twice", name, d)
			return nil
		}
		days = append(days, d)
	}
	slices.SortFunc(days, func(a, b int) int { return b - a })
	return days
}

// quoteAll joins quoted choices as `"a" or "b"`.
func quoteAll(choices []string) string {
	s := ""
	for i, c := range choices {
		switch {
		case i == 0:
		case i == len(choices)-1:
			s += " or "
		default:
			s += ", "
		}
		s += quote(c)
	}
	return s
}
