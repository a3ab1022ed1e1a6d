package options

import (
	"time"

	"github.com/lanyard-id/lanyard"
)

// Default limits of a script run. An option script sets a few values and
// builds three strings, a few hundred steps; the limits leave room for
// loops over a user's attributes and stop a runaway script well before a
// user waiting on the page would notice.
const (
	DefaultMaxSteps = 1_000_000
	DefaultTimeout  = time.Second
)

// Config sets the limits of an Engine. Its zero value is the defaults.
type Config struct {
	// MaxSteps bounds the Starlark steps of one run; 0 means
	// DefaultMaxSteps.
	MaxSteps uint64

	// Timeout bounds the wall-clock time of one run, for the work a step
	// count does not see, such as a built-in sorting a long list; 0 means
	// DefaultTimeout.
	Timeout time.Duration

	// Print receives what a script prints, for `lanyard options test`;
	// nil discards it. It may be called from several runs at once.
	Print func(process, msg string)
}

// Engine compiles and runs option scripts. It keeps a bounded cache of
// compiled scripts, keyed by a hash of their text, because a script runs
// on every process start but changes rarely, and one of the mobile ID
// options they gave recent users, because a process's introduction and
// its start evaluate the same script for the same user a moment apart. An
// Engine is safe for concurrent use.
type Engine struct {
	cfg     Config
	cache   *cache
	results *results
}

// New returns an Engine with the limits of cfg.
func New(cfg Config) *Engine {
	if cfg.MaxSteps == 0 {
		cfg.MaxSteps = DefaultMaxSteps
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Engine{cfg: cfg, cache: newCache(), results: newResults()}
}

// Evaluate runs the script source of process for user u and returns its
// checked options: a MobileID or an Expiring. Every problem of the script,
// whether it fails to compile, fails at run time, exceeds a limit or sets
// a wrong value, is a *lanyard.Error with code EINVALID and a message for
// an administrator with the line and column where known.
func (e *Engine) Evaluate(process, source string, u User) (Result, error) {
	return e.evaluate(keyOf(process, source), process, source, u)
}

// evaluate is Evaluate with the script's key k computed already.
func (e *Engine) evaluate(k cacheKey, process, source string, u User) (Result, error) {
	p, err := e.compile(k, process, source)
	if err != nil {
		return nil, err
	}
	return e.run(process, p, u)
}

// MobileID evaluates the script of a mobile ID process, either
// MobileIDSelfServiceProcGet or MobileIDProcSupplyMobileIDForUser, for
// user u.
func (e *Engine) MobileID(process, source string, u User) (MobileID, error) {
	if process == MobileIDExpiring {
		return MobileID{}, lanyard.Errorf(lanyard.EINVALID, "%s has no mobile ID options", process)
	}
	// With a Print function (`lanyard options test`) the script runs each
	// time, so that what it prints is printed each time.
	script := keyOf(process, source)
	k := resultKeyOf(script, u)
	if e.cfg.Print == nil {
		if o, ok := e.results.Get(k); ok {
			return o, nil
		}
	}
	res, err := e.evaluate(script, process, source, u)
	if err != nil {
		return MobileID{}, err
	}
	o := res.(MobileID)
	if e.cfg.Print == nil {
		e.results.Put(k, o)
	}
	return o, nil
}

// Expiring evaluates the MobileIDExpiring script source for user u.
func (e *Engine) Expiring(source string, u User) (Expiring, error) {
	res, err := e.Evaluate(MobileIDExpiring, source, u)
	if err != nil {
		return Expiring{}, err
	}
	return res.(Expiring), nil
}

// Validate checks the script source of process before it is saved: it
// must compile, bind exactly the process's names, and run for sample
// with every value of the right type and in range. A zero sample means
// SampleUser. A script may still fail for other users, for example on an
// attribute only some users have; DryRun tries it on a real one.
func (e *Engine) Validate(process, source string, sample User) error {
	if sample.Username == "" {
		sample = SampleUser()
	}
	_, err := e.Evaluate(process, source, sample)
	return err
}

// DryRun evaluates the script source of process for user u and returns
// the result as Result.Map does, the object `lanyard options test --json`
// prints. An error names the user, since it may hold for this user only.
func (e *Engine) DryRun(process, source string, u User) (map[string]any, error) {
	res, err := e.Evaluate(process, source, u)
	if err != nil {
		return nil, err
	}
	return res.Map(), nil
}

// compile returns the compiled script of key k from the cache, or
// compiles it.
func (e *Engine) compile(k cacheKey, process, source string) (*program, error) {
	if p, ok := e.cache.Get(k); ok {
		return p, nil
	}
	p, err := compile(process, source)
	if err != nil {
		return nil, err
	}
	e.cache.Put(k, p)
	return p, nil
}
