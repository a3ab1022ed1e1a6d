package options

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/lanyard-id/lanyard"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// run is one evaluation of a compiled script for one user.
type run struct {
	cfg    Config
	prog   *program
	thread *starlark.Thread
	user   *userValue

	steps     bool        // the step limit stopped the script
	overLimit bool        // a limit of steps, time or memory stopped the script
	timedOut  atomic.Bool // the time limit stopped the script
}

// run evaluates p for u under the limits of e: it executes the top-level
// code with user predeclared, then reads and checks the options.
func (e *Engine) run(process string, p *program, u User) (Result, error) {
	r := &run{cfg: e.cfg, prog: p, user: newUserValue(u)}
	r.thread = &starlark.Thread{
		Name: process,
		Print: func(_ *starlark.Thread, msg string) {
			if e.cfg.Print != nil {
				e.cfg.Print(process, msg)
			}
		},
		Load: func(*starlark.Thread, string) (starlark.StringDict, error) {
			return nil, errors.New("load is not allowed in an options script")
		},
		OnMaxSteps: func(t *starlark.Thread) {
			r.steps = true
			t.Cancel("step limit")
		},
	}
	r.thread.SetMaxExecutionSteps(e.cfg.MaxSteps)
	timer := time.AfterFunc(e.cfg.Timeout, func() {
		r.timedOut.Store(true)
		r.thread.Cancel("time limit")
	})
	defer timer.Stop()

	predeclared := starlark.StringDict{"user": r.user}
	for name, g := range guardNames {
		predeclared[name] = g
	}
	globals, err := p.prog.Init(r.thread, predeclared)
	if err != nil {
		return nil, r.marked(r.forUser(r.fail(err)))
	}
	rd := &reader{run: r, globals: globals}
	res := p.spec.extract(rd)
	if rd.err != nil {
		return nil, r.marked(r.forUser(rd.err))
	}
	return res, nil
}

// marked marks err as a limit's when the run exceeded one.
func (r *run) marked(err error) error {
	if r.overLimit {
		return limitError{err}
	}
	return err
}

// fail turns an error of the running script into an EINVALID error that
// says where the script was and what went wrong, or which limit it hit.
func (r *run) fail(err error) error {
	var over overLimit
	if r.steps || r.timedOut.Load() || errors.As(err, &over) {
		r.overLimit = true
	}
	var ee *starlark.EvalError
	if !errors.As(err, &ee) {
		return invalid(syntax.Position{}, "the script failed: %v", err)
	}
	pos, fn := r.where(ee.CallStack)
	msg := ee.Msg
	switch {
	case r.steps:
		msg = fmt.Sprintf("the script exceeded its step limit of %d steps", r.cfg.MaxSteps)
	case r.timedOut.Load():
		msg = fmt.Sprintf("the script exceeded its time limit of %s", r.cfg.Timeout)
	}
	if fn != "" && fn != "<toplevel>" {
		msg = "in " + fn + ": " + msg
	}
	return invalid(pos, "%s", msg)
}

// where returns the position and function of the innermost call frame
// that belongs to the script rather than to a built-in.
func (r *run) where(stack starlark.CallStack) (syntax.Position, string) {
	for i := range stack {
		fr := stack.At(i)
		if fr.Pos.Filename() == scriptName {
			return fr.Pos, fr.Name
		}
	}
	return syntax.Position{}, ""
}

// forUser adds the user a run was for to the message of err, since a
// script may fail for one user and not another.
func (r *run) forUser(err error) error {
	var le *lanyard.Error
	if !errors.As(err, &le) {
		return err
	}
	return lanyard.Errorf(le.Code, "%s (for user %s)", le.Message, quote(r.user.u.Username))
}
