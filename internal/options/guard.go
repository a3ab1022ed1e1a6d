package options

import (
	"errors"
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Memory bounds of a script run.
//
// Starlark counts steps and can be cancelled between them, but one step
// may allocate without bound: `[None] * 100000000`, `s + s` in a loop
// (doubling each time), `n * n` on integers, `",".join(...)` or
// `list(range(...))` each run inside a single step, so neither the step
// limit nor the time limit can stop them, and a Go process cannot take
// memory back from a running allocation. Go's Starlark has no allocation
// limit of its own, so the engine rewrites every operation that can make a
// value larger than its operands into a call of a guard that knows the
// size of the result before making it, and refuses it above a limit:
// the operators + * % << (and += *= %=), slices, the methods that join,
// replace, format or extend, and the built-ins that build strings, lists
// and dicts. Each value made this way is also charged to the run, so that
// many values each under the limit cannot add up past the run's budget.
// What the guards do not see allocates a small, fixed amount per step.
const (
	maxStringLen = 1 << 20 // bytes of a string or bytes value
	maxElements  = 100_000 // elements of a list, tuple, dict or range
	maxIntBits   = 4096    // bits of an integer
	maxRunAlloc  = 64 << 20
)

// overLimit is the error of a guard that refused an operation.
type overLimit string

func (e overLimit) Error() string { return string(e) }

func overLimitf(format string, args ...any) error { return overLimit(fmt.Sprintf(format, args...)) }

// limitError marks the failure of a run that exceeded a limit of the
// engine (steps, time or memory), as opposed to a mistake of the script.
type limitError struct{ err error }

func (e limitError) Error() string { return e.err.Error() }
func (e limitError) Unwrap() error { return e.err }

// IsLimit reports whether err is the failure of a script that exceeded a
// limit of the engine: its steps, its time or its memory.
func IsLimit(err error) bool {
	var le limitError
	return errors.As(err, &le)
}

// budget is what a run has charged so far.
type budget struct{ used int64 }

const budgetKey = "lanyard.budget"

func budgetOf(t *starlark.Thread) *budget {
	b, _ := t.Local(budgetKey).(*budget)
	if b == nil {
		b = &budget{}
		t.SetLocal(budgetKey, b)
	}
	return b
}

// charge adds the size of v to the run's budget.
func charge(t *starlark.Thread, v starlark.Value) error {
	b := budgetOf(t)
	b.used += sizeOf(v)
	if b.used > maxRunAlloc {
		return overLimitf("the script exceeded its memory limit of %d MiB", maxRunAlloc>>20)
	}
	return nil
}

// sizeOf is the memory a value holds by itself, not counting the values
// it refers to, which were charged when they were made.
func sizeOf(v starlark.Value) int64 {
	switch v := v.(type) {
	case starlark.String:
		return int64(len(v))
	case starlark.Bytes:
		return int64(len(v))
	case starlark.Int:
		return int64(v.BigInt().BitLen() / 8)
	case starlark.Indexable:
		return 16 * int64(v.Len())
	case *starlark.Dict:
		return 64 * int64(v.Len())
	case starlark.Sequence:
		return 16 * int64(v.Len())
	}
	return 0
}

// lenOf is the length of a string, bytes or sequence, else -1.
func lenOf(v starlark.Value) int {
	switch v := v.(type) {
	case starlark.String:
		return len(v)
	case starlark.Bytes:
		return len(v)
	case starlark.Sequence:
		return v.Len()
	}
	return -1
}

func isText(v starlark.Value) bool {
	switch v.(type) {
	case starlark.String, starlark.Bytes:
		return true
	}
	return false
}

// checkLen refuses a result of n bytes (text) or n elements.
func checkLen(text bool, n int64) error {
	if text && n > maxStringLen {
		return overLimitf("the result would have %d bytes; a string may have at most %d", n, maxStringLen)
	}
	if !text && n > maxElements {
		return overLimitf("the result would have %d elements; a list may have at most %d", n, maxElements)
	}
	return nil
}

func intBits(v starlark.Value) (int, bool) {
	i, ok := v.(starlark.Int)
	if !ok {
		return 0, false
	}
	return i.BigInt().BitLen(), true
}

// checkBinary refuses x op y when its result would be too large.
func checkBinary(op syntax.Token, x, y starlark.Value) error {
	bx, xInt := intBits(x)
	by, yInt := intBits(y)
	switch op {
	case syntax.PLUS:
		if xInt && yInt {
			return checkBits(max(bx, by) + 1)
		}
		if lx, ly := lenOf(x), lenOf(y); lx >= 0 && ly >= 0 {
			return checkLen(isText(x), int64(lx)+int64(ly))
		}
	case syntax.STAR:
		if xInt && yInt {
			return checkBits(bx + by)
		}
		// Repetition: a sequence times a count, either way round.
		seq, n := x, y
		if xInt {
			seq, n = y, x
		}
		if l := lenOf(seq); l >= 0 {
			count, err := starlark.AsInt32(n)
			if err != nil {
				return overLimitf("repeat count too large")
			}
			return checkLen(isText(seq), int64(l)*int64(max(count, 0)))
		}
	case syntax.LTLT:
		if xInt {
			if s, err := starlark.AsInt32(y); err == nil {
				return checkBits(bx + s)
			}
		}
	case syntax.PERCENT:
		if f, ok := x.(starlark.String); ok {
			// Each conversion of the format may print any operand.
			return checkLen(true, int64(len(f))+int64(countByte(string(f), '%'))*reprBound(y))
		}
	}
	return nil
}

func checkBits(n int) error {
	if n > maxIntBits {
		return overLimitf("the result would have %d bits; an integer may have at most %d", n, maxIntBits)
	}
	return nil
}

func countByte(s string, c byte) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
		}
	}
	return n
}

// reprBound is an upper bound of the length of str(v) or repr(v), capped
// just above the string limit; walking stops there, so it costs little
// however large v claims to be.
func reprBound(v starlark.Value) int64 {
	const limit = maxStringLen + 1
	var total int64
	var walk func(v starlark.Value, depth int)
	walk = func(v starlark.Value, depth int) {
		if total > limit || depth > 64 {
			total = limit + 1
			return
		}
		switch v := v.(type) {
		case starlark.String:
			total += 2*int64(len(v)) + 2 // every byte may be escaped
		case starlark.Bytes:
			total += 4*int64(len(v)) + 3
		case starlark.Int:
			total += int64(v.BigInt().BitLen()/3 + 2)
		case *starlark.Dict:
			for _, kv := range v.Items() {
				total += 4
				walk(kv[0], depth+1)
				walk(kv[1], depth+1)
				if total > limit {
					return
				}
			}
		case starlark.Iterable:
			if s, ok := v.(starlark.Sequence); ok {
				total += 2
				it := s.Iterate()
				defer it.Done()
				var x starlark.Value
				for it.Next(&x) {
					total += 2
					walk(x, depth+1)
					if total > limit {
						return
					}
				}
				return
			}
			total += 64
		default:
			total += int64(len(v.String()))
		}
	}
	walk(v, 0)
	return total
}

// guardBinary is the guard of the binary operators.
func guardBinary(t *starlark.Thread, op syntax.Token, x, y starlark.Value) (starlark.Value, error) {
	if err := checkBinary(op, x, y); err != nil {
		return nil, err
	}
	z, err := starlark.Binary(op, x, y)
	if err != nil {
		return nil, err
	}
	return z, charge(t, z)
}

// guardNames are the guards, made once: they hold no state of their own.
var guardNames = guards()

// guards returns the predeclared names the rewritten script calls. Their
// names are not identifiers, so no script can name, shadow or bind them.
func guards() starlark.StringDict {
	d := starlark.StringDict{}
	for name, op := range guardedOps {
		d[opGuard(name)] = starlark.NewBuiltin(name, func(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			return guardBinary(t, op, args[0], args[1])
		})
		d[inplaceGuard(name)] = starlark.NewBuiltin(name+"=", func(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			x, y := args[0], args[1]
			// x += y extends a list in place, as Starlark does.
			if l, ok := x.(*starlark.List); ok && op == syntax.PLUS {
				if n := lenOf(y); n >= 0 {
					if err := checkLen(false, int64(l.Len())+int64(n)); err != nil {
						return nil, err
					}
				}
				if it, ok := y.(starlark.Iterable); ok {
					if err := extend(l, it); err != nil {
						return nil, err
					}
					return l, charge(t, y)
				}
			}
			return guardBinary(t, op, x, y)
		})
	}
	d[attrGuard] = starlark.NewBuiltin("getattr", func(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		return guardedAttr(args[0], string(args[1].(starlark.String)))
	})
	d[sliceGuard] = starlark.NewBuiltin("slice", func(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		// A slice is at most as long as what it slices.
		return args[0], charge(t, args[0])
	})
	for name, check := range guardedBuiltins {
		orig := starlark.Universe[name]
		d[name] = starlark.NewBuiltin(name, func(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if check != nil {
				if err := check(args); err != nil {
					return nil, err
				}
			}
			v, err := starlark.Call(t, orig, args, kwargs)
			if err != nil {
				return nil, err
			}
			if n := lenOf(v); n >= 0 {
				if err := checkLen(isText(v), int64(n)); err != nil {
					return nil, err
				}
			}
			return v, charge(t, v)
		})
	}
	return d
}

// extend appends the elements of it to l, which may be it itself.
func extend(l *starlark.List, it starlark.Iterable) error {
	iter := it.Iterate()
	var x starlark.Value
	var items []starlark.Value
	for iter.Next(&x) {
		items = append(items, x)
	}
	iter.Done()
	for _, x := range items {
		if err := l.Append(x); err != nil {
			return err
		}
	}
	return nil
}

var guardedOps = map[string]syntax.Token{"+": syntax.PLUS, "*": syntax.STAR, "%": syntax.PERCENT, "<<": syntax.LTLT}

func opGuard(op string) string      { return "$" + op }
func inplaceGuard(op string) string { return "$" + op + "=" }

const (
	attrGuard  = "$attr"
	sliceGuard = "$slice"
)

// guardedBuiltins are the built-ins that may build large values or walk
// long ones, each with a check of its arguments before it runs; the result
// is checked and charged after, which is safe since, the arguments being
// bounded, it is no larger than them by more than a constant factor.
var guardedBuiltins = map[string]func(args starlark.Tuple) error{
	"str":       reprCheck,
	"repr":      reprCheck,
	"print":     reprCheck,
	"fail":      reprCheck,
	"list":      lengthCheck,
	"tuple":     lengthCheck,
	"dict":      lengthCheck,
	"sorted":    lengthCheck,
	"reversed":  lengthCheck,
	"enumerate": lengthCheck,
	"zip":       lengthCheck,
	"bytes":     lengthCheck,
	"dir":       nil,
	// These build nothing, but a built-in cannot be stopped while it
	// runs, so they too are refused a range too long to walk.
	"max": lengthCheck,
	"min": lengthCheck,
	"any": lengthCheck,
	"all": lengthCheck,
}

// lengthCheck refuses a built-in an argument too long to walk or copy,
// such as range(1000000000): a range costs nothing until a built-in
// walks it, inside one step.
func lengthCheck(args starlark.Tuple) error {
	for _, a := range args {
		if n := lenOf(a); n > maxElements && !isText(a) {
			return overLimitf("an argument of %d elements; a built-in may walk at most %d", n, maxElements)
		}
	}
	return nil
}

func reprCheck(args starlark.Tuple) error {
	var total int64
	for _, a := range args {
		total += reprBound(a)
	}
	return checkLen(true, total)
}

// guardedAttr is x.name, with the methods that can multiply a value's
// size wrapped in a check of their result's size before they run, and
// every other method's result charged after it.
func guardedAttr(x starlark.Value, name string) (starlark.Value, error) {
	ha, ok := x.(starlark.HasAttrs)
	if !ok {
		return nil, fmt.Errorf("%s has no .%s field or method", x.Type(), name)
	}
	v, err := ha.Attr(name)
	var msg string
	if nsa, ok := err.(starlark.NoSuchAttrError); ok {
		msg = string(nsa)
	} else if err != nil {
		return nil, err
	} else if v == nil {
		msg = fmt.Sprintf("%s has no .%s field or method", x.Type(), name)
	}
	if msg != "" {
		// The hint the interpreter gives for x.name.
		if n := suggest(name, ha.AttrNames()); n != "" {
			msg = fmt.Sprintf("%s (did you mean .%s?)", msg, n)
		}
		return nil, fmt.Errorf("%s", msg)
	}
	method, ok := v.(*starlark.Builtin)
	if !ok {
		return v, nil
	}
	check := methodChecks[name]
	return starlark.NewBuiltin(name, func(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if check != nil {
			all := args
			for _, kv := range kwargs {
				all = append(all[:len(all):len(all)], kv[1])
			}
			if err := check(x, all); err != nil {
				return nil, err
			}
		}
		r, err := starlark.Call(t, method, args, kwargs)
		if err != nil {
			return nil, err
		}
		if n := lenOf(r); n >= 0 {
			if err := checkLen(isText(r), int64(n)); err != nil {
				return nil, err
			}
		}
		return r, charge(t, r)
	}), nil
}

// methodChecks bound, before they run, the methods whose result may be
// much larger than the value they are called on.
var methodChecks = map[string]func(recv starlark.Value, args starlark.Tuple) error{
	"join": func(recv starlark.Value, args starlark.Tuple) error {
		if len(args) != 1 {
			return nil
		}
		sep := int64(lenOf(recv))
		seq, ok := args[0].(starlark.Iterable)
		if !ok {
			return nil
		}
		var total int64
		it := seq.Iterate()
		defer it.Done()
		var x starlark.Value
		for it.Next(&x) {
			total += int64(max(lenOf(x), 0)) + sep
			if total > maxStringLen {
				break
			}
		}
		return checkLen(true, total)
	},
	"replace": func(recv starlark.Value, args starlark.Tuple) error {
		if len(args) < 2 {
			return nil
		}
		n, old, repl := int64(lenOf(recv)), int64(lenOf(args[0])), int64(lenOf(args[1]))
		if repl <= old {
			return nil
		}
		// At most one replacement per byte, and one more for an empty old.
		return checkLen(true, n+(n+1)*(repl-old))
	},
	"format": func(recv starlark.Value, args starlark.Tuple) error {
		f, _ := recv.(starlark.String)
		var each int64
		for _, a := range args {
			each = max(each, reprBound(a))
		}
		return checkLen(true, int64(len(f))+int64(countByte(string(f), '{'))*each)
	},
	"extend": func(recv starlark.Value, args starlark.Tuple) error {
		if len(args) != 1 {
			return nil
		}
		if n := lenOf(args[0]); n >= 0 {
			return checkLen(false, int64(lenOf(recv))+int64(n))
		}
		return nil
	},
}
