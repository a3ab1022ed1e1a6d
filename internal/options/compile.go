package options

import (
	"errors"
	"maps"
	"slices"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// maxSourceLen bounds the length of a script. The default scripts are
// well under a kilobyte; a longer script is a mistake, not a use.
const maxSourceLen = 64 << 10

// scriptName is the file name Starlark gives the script in positions; the
// engine uses it to tell the script's own call frames from built-ins.
const scriptName = "options.star"

// fileOptions allow the whole Starlark language, so that an administrator
// may use if, for and while at top level and reassign a name in branches.
// The step and time limits, not the grammar, bound what a script may cost.
var fileOptions = &syntax.FileOptions{
	Set:             true,
	While:           true,
	TopLevelControl: true,
	GlobalReassign:  true,
	Recursion:       true,
}

// program is a compiled script with what the engine learned of it.
type program struct {
	spec *spec
	prog *starlark.Program

	// bound maps each top-level name to where the script first binds it.
	bound map[string]syntax.Position
}

// compile parses, checks and compiles the script of process.
func compile(process, source string) (*program, error) {
	sp, err := specOf(process)
	if err != nil {
		return nil, err
	}
	if len(source) > maxSourceLen {
		return nil, invalid(syntax.Position{}, "the script is %d bytes long; the limit is %d", len(source), maxSourceLen)
	}
	f, err := fileOptions.Parse(scriptName, source, 0)
	if err != nil {
		return nil, loadError(err)
	}
	for _, st := range f.Stmts {
		if l, ok := st.(*syntax.LoadStmt); ok {
			return nil, invalid(l.Load, "load is not allowed: an options script cannot read other files; write everything it needs into the script")
		}
	}
	guardFile(f)
	prog, err := starlark.FileProgram(f, func(name string) bool { return name == "user" || guardNames[name] != nil })
	if err != nil {
		return nil, loadError(err)
	}
	p := &program{spec: sp, prog: prog, bound: make(map[string]syntax.Position)}
	defs := make(map[string]bool) // names bound by def alone
	bindings(f.Stmts, func(id *syntax.Ident, isDef bool) {
		if _, seen := p.bound[id.Name]; !seen {
			p.bound[id.Name] = id.NamePos
			defs[id.Name] = isDef
		} else if !isDef {
			defs[id.Name] = false
		}
	})
	if err := p.checkNames(defs); err != nil {
		return nil, err
	}
	return p, nil
}

// loadError turns a parse or resolve error into an EINVALID error that
// names the line and column of the first problem.
func loadError(err error) error {
	var se syntax.Error
	var re resolve.ErrorList
	switch {
	case errors.As(err, &se):
		return invalid(se.Pos, "syntax error: %s", se.Msg)
	case errors.As(err, &re):
		return invalid(re[0].Pos, "%s", re[0].Msg)
	}
	return invalid(syntax.Position{}, "the script cannot be compiled: %v", err)
}

// bindings calls visit for every name a top-level statement binds,
// descending into top-level if, for and while statements but not into
// functions or comprehensions, whose names are local.
func bindings(stmts []syntax.Stmt, visit func(id *syntax.Ident, isDef bool)) {
	var targets func(e syntax.Expr)
	targets = func(e syntax.Expr) {
		switch e := e.(type) {
		case *syntax.Ident:
			visit(e, false)
		case *syntax.ParenExpr:
			targets(e.X)
		case *syntax.TupleExpr:
			for _, x := range e.List {
				targets(x)
			}
		case *syntax.ListExpr:
			for _, x := range e.List {
				targets(x)
			}
		}
	}
	for _, st := range stmts {
		switch st := st.(type) {
		case *syntax.AssignStmt:
			targets(st.LHS)
		case *syntax.DefStmt:
			visit(st.Name, true)
		case *syntax.ForStmt:
			targets(st.Vars)
			bindings(st.Body, visit)
		case *syntax.WhileStmt:
			bindings(st.Body, visit)
		case *syntax.IfStmt:
			bindings(st.True, visit)
			bindings(st.False, visit)
		}
	}
}

// checkNames refuses top-level names that are not the process's, and
// required names the script never binds. A name starting with _ is a
// private helper, and a function bound only by def is a helper too, so
// that a script may factor its logic; any other unknown name is most
// likely a misspelt option and is refused with the nearest known name.
func (p *program) checkNames(defs map[string]bool) error {
	known := p.spec.names()
	var unknown []string
	for name := range p.bound {
		if strings.HasPrefix(name, "_") || p.spec.has(name) || (defs[name] && name != "user") {
			continue
		}
		unknown = append(unknown, name)
	}
	if name := p.first(unknown); name != "" {
		pos := p.bound[name]
		if name == "user" {
			return invalid(pos, "user is the user the script runs for and cannot be assigned")
		}
		if hint := didYouMean(name, known); hint != "" {
			return invalid(pos, "unknown name %s%s (a name of your own must start with _)", name, hint)
		}
		return invalid(pos, "unknown name %s: the names of this script are %s, and a name of your own must start with _",
			name, strings.Join(known, ", "))
	}
	for _, name := range known {
		if _, ok := p.bound[name]; !ok {
			msg := name + " is missing: every option must be set"
			if name == "user_properties" {
				msg = "user_properties is missing: define it as def user_properties(user): returning user_id, server_name and profile_name"
			}
			if s := suggest(name, p.boundNames()); s != "" {
				msg += " (is " + s + " meant to be " + name + "?)"
			}
			return invalid(syntax.Position{}, "%s", msg)
		}
	}
	return nil
}

// first returns the name among names that the script binds first.
func (p *program) first(names []string) string {
	best := ""
	for _, n := range names {
		if best == "" || before(p.bound[n], p.bound[best]) {
			best = n
		}
	}
	return best
}

func before(a, b syntax.Position) bool {
	return a.Line < b.Line || (a.Line == b.Line && a.Col < b.Col)
}

func (p *program) boundNames() []string {
	return slices.Sorted(maps.Keys(p.bound))
}
