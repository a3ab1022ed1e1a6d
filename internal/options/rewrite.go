package options

import (
	"go.starlark.net/syntax"
)

// guardFile rewrites a parsed script so that every operation that can make
// a large value calls a guard first (see guard.go): x + y becomes
// $+(x, y), x += y becomes x = $+=(x, y), x.name becomes $attr(x, "name"),
// and x[i:j] becomes $slice(x)[i:j]. The guards are predeclared under
// names no script can write.
func guardFile(f *syntax.File) {
	for _, st := range f.Stmts {
		guardStmt(st)
	}
}

func guardStmts(stmts []syntax.Stmt) {
	for _, st := range stmts {
		guardStmt(st)
	}
}

func guardStmt(st syntax.Stmt) {
	switch st := st.(type) {
	case *syntax.AssignStmt:
		st.RHS = guardExpr(st.RHS)
		guardTarget(st.LHS)
		var op string
		switch st.Op {
		case syntax.PLUS_EQ:
			op = "+"
		case syntax.STAR_EQ:
			op = "*"
		case syntax.PERCENT_EQ:
			op = "%"
		case syntax.LTLT_EQ:
			op = "<<"
		}
		if op != "" {
			if use := cloneTarget(st.LHS); use != nil {
				st.RHS = call(inplaceGuard(op), st.OpPos, guardExpr(use), st.RHS)
				st.Op = syntax.EQ
			}
		}
	case *syntax.ExprStmt:
		st.X = guardExpr(st.X)
	case *syntax.DefStmt:
		for i, p := range st.Params {
			st.Params[i] = guardParam(p)
		}
		guardStmts(st.Body)
	case *syntax.ForStmt:
		st.X = guardExpr(st.X)
		guardTarget(st.Vars)
		guardStmts(st.Body)
	case *syntax.WhileStmt:
		st.Cond = guardExpr(st.Cond)
		guardStmts(st.Body)
	case *syntax.IfStmt:
		st.Cond = guardExpr(st.Cond)
		guardStmts(st.True)
		guardStmts(st.False)
	case *syntax.ReturnStmt:
		if st.Result != nil {
			st.Result = guardExpr(st.Result)
		}
	}
}

// guardParam guards a parameter's default value.
func guardParam(p syntax.Expr) syntax.Expr {
	if b, ok := p.(*syntax.BinaryExpr); ok && b.Op == syntax.EQ {
		b.Y = guardExpr(b.Y)
	}
	return p
}

// guardTarget guards the expressions inside an assignment's target, such
// as the index of a[i] = v, but not the target itself.
func guardTarget(e syntax.Expr) {
	switch e := e.(type) {
	case *syntax.IndexExpr:
		e.X = guardExpr(e.X)
		e.Y = guardExpr(e.Y)
	case *syntax.DotExpr:
		e.X = guardExpr(e.X)
	case *syntax.ParenExpr:
		guardTarget(e.X)
	case *syntax.TupleExpr:
		for _, x := range e.List {
			guardTarget(x)
		}
	case *syntax.ListExpr:
		for _, x := range e.List {
			guardTarget(x)
		}
	}
}

// cloneTarget copies the target of an augmented assignment for its use as
// an operand; targets other than a name, an index or a field are left
// alone (Starlark allows no other).
func cloneTarget(e syntax.Expr) syntax.Expr {
	switch e := e.(type) {
	case *syntax.Ident:
		return &syntax.Ident{NamePos: e.NamePos, Name: e.Name}
	case *syntax.IndexExpr:
		c := *e
		return &c
	case *syntax.DotExpr:
		c := *e
		return &c
	case *syntax.ParenExpr:
		return cloneTarget(e.X)
	}
	return nil
}

func call(fn string, pos syntax.Position, args ...syntax.Expr) *syntax.CallExpr {
	return &syntax.CallExpr{Fn: &syntax.Ident{NamePos: pos, Name: fn}, Lparen: pos, Args: args, Rparen: pos}
}

func str(pos syntax.Position, s string) *syntax.Literal {
	return &syntax.Literal{Token: syntax.STRING, TokenPos: pos, Raw: `"` + s + `"`, Value: s}
}

func guardExprs(list []syntax.Expr) {
	for i, x := range list {
		list[i] = guardExpr(x)
	}
}

func guardExpr(e syntax.Expr) syntax.Expr {
	switch e := e.(type) {
	case *syntax.BinaryExpr:
		e.X, e.Y = guardExpr(e.X), guardExpr(e.Y)
		for name, op := range guardedOps {
			if e.Op == op {
				return call(opGuard(name), e.OpPos, e.X, e.Y)
			}
		}
	case *syntax.UnaryExpr:
		if e.X != nil {
			e.X = guardExpr(e.X)
		}
	case *syntax.ParenExpr:
		e.X = guardExpr(e.X)
	case *syntax.CallExpr:
		e.Fn = guardExpr(e.Fn)
		for i, a := range e.Args {
			if b, ok := a.(*syntax.BinaryExpr); ok && b.Op == syntax.EQ {
				b.Y = guardExpr(b.Y) // a keyword argument
				continue
			}
			e.Args[i] = guardExpr(a)
		}
	case *syntax.DotExpr:
		return call(attrGuard, e.Dot, guardExpr(e.X), str(e.NamePos, e.Name.Name))
	case *syntax.IndexExpr:
		e.X, e.Y = guardExpr(e.X), guardExpr(e.Y)
	case *syntax.SliceExpr:
		e.X = call(sliceGuard, e.Lbrack, guardExpr(e.X))
		for _, p := range []*syntax.Expr{&e.Lo, &e.Hi, &e.Step} {
			if *p != nil {
				*p = guardExpr(*p)
			}
		}
	case *syntax.ListExpr:
		guardExprs(e.List)
	case *syntax.TupleExpr:
		guardExprs(e.List)
	case *syntax.DictExpr:
		for _, entry := range e.List {
			if de, ok := entry.(*syntax.DictEntry); ok {
				de.Key, de.Value = guardExpr(de.Key), guardExpr(de.Value)
			}
		}
	case *syntax.CondExpr:
		e.Cond, e.True, e.False = guardExpr(e.Cond), guardExpr(e.True), guardExpr(e.False)
	case *syntax.Comprehension:
		e.Body = guardExpr(e.Body)
		for _, cl := range e.Clauses {
			switch cl := cl.(type) {
			case *syntax.ForClause:
				cl.X = guardExpr(cl.X)
				guardTarget(cl.Vars)
			case *syntax.IfClause:
				cl.Cond = guardExpr(cl.Cond)
			}
		}
	case *syntax.LambdaExpr:
		for i, p := range e.Params {
			e.Params[i] = guardParam(p)
		}
		e.Body = guardExpr(e.Body)
	case *syntax.DictEntry:
		e.Key, e.Value = guardExpr(e.Key), guardExpr(e.Value)
	}
	return e
}
