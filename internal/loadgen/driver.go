package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanyard-id/lanyard/appclient"
)

// A worker whose iterations fail waits before the next one, longer after
// each failure in a row, so that a server that is down (restarting, its
// database restarting) is not hammered, and goes on when it answers again.
// It stops only when iterations have failed for GiveUpAfter without a
// success: a broken server or a wrong setup.
const (
	firstPause = 50 * time.Millisecond
	maxPause   = 2 * time.Second
	// DefaultGiveUpAfter is Config.GiveUpAfter when it is zero.
	DefaultGiveUpAfter = 30 * time.Second
)

// pause is the wait after the nth failure in a row.
func pause(n int) time.Duration {
	d := firstPause
	for range min(n-1, 10) {
		d *= 2
	}
	return min(d, maxPause)
}

// Driver is a run ready to start: its users are logged in.
type Driver struct {
	cfg     Config
	app     *appclient.Client
	workers [][]*session // the users of each worker
	// LoginTime is how long logging in every user took, before the run.
	LoginTime time.Duration
}

// New checks cfg and logs in every user, the workers in parallel. It stops
// at the first failed login: the server limits failed logins per address.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	u, _ := parseTarget(cfg.URL, cfg.AllowRemote)
	base := u.String()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2*cfg.Concurrency + 2
	d := &Driver{cfg: cfg, app: &appclient.Client{BaseURL: base, HTTP: &http.Client{Transport: tr, Timeout: cfg.Timeout}}}
	d.workers = make([][]*session, cfg.Concurrency)
	for i := 1; i <= cfg.Users; i++ {
		w := (i - 1) % cfg.Concurrency
		d.workers[w] = append(d.workers[w], newSession(base, cfg.UserPrefix+strconv.Itoa(i), tr, cfg))
	}
	start := time.Now()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, sessions := range d.workers {
		wg.Go(func() {
			for _, s := range sessions {
				if ctx.Err() != nil {
					return
				}
				if err := s.login(ctx, cfg.Password); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	d.LoginTime = time.Since(start)
	return d, nil
}

// Run runs the workers until the duration has passed or the count is
// reached, whichever comes first; iterations under way then finish. When
// ctx ends, iterations stop where they are and are counted neither as
// made nor as failed.
func (d *Driver) Run(ctx context.Context) *Result {
	start := time.Now()
	deadline := start.Add(d.cfg.Duration)
	var started atomic.Int64
	tallies := make([]tally, len(d.workers))
	var wg sync.WaitGroup
	giveUp := d.cfg.GiveUpAfter
	if giveUp == 0 {
		giveUp = DefaultGiveUpAfter
	}
	for w, sessions := range d.workers {
		wg.Go(func() {
			t := &tallies[w]
			inARow := 0
			var since time.Time // the first failure of the current run of them
			for i := 0; ctx.Err() == nil && time.Now().Before(deadline); i++ {
				if d.cfg.Count > 0 && started.Add(1) > int64(d.cfg.Count) {
					return
				}
				t0 := time.Now()
				replaced, err := d.getMobileID(ctx, sessions[i%len(sessions)])
				if ctx.Err() != nil {
					return
				}
				if err == nil {
					t.latencies = append(t.latencies, time.Since(t0))
					if replaced {
						t.replaced++
					}
					if inARow > 0 {
						t.outage(time.Since(since))
					}
					inARow = 0
					continue
				}
				t.fail(err)
				if inARow++; inARow == 1 {
					since = t0
				}
				if time.Since(since) >= giveUp {
					t.outage(time.Since(since))
					t.gaveUp = true
					return
				}
				select {
				case <-ctx.Done():
				case <-time.After(min(pause(inARow), time.Until(deadline))):
				}
			}
			if inARow > 0 {
				t.outage(time.Since(since))
			}
		})
	}
	wg.Wait()
	return merge(tallies, time.Since(start))
}

// errorKind is the kind a failure is counted by.
func errorKind(err error) string {
	var se *stepError
	if errors.As(err, &se) {
		return se.Error()
	}
	return "other"
}

// errorDetail is a failure in full, for the one example shown per kind.
func errorDetail(err error) string {
	var se *stepError
	if errors.As(err, &se) && se.err != nil {
		return fmt.Sprintf("%s: %v", se.Error(), se.err)
	}
	return err.Error()
}
