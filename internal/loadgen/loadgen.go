// Package loadgen drives a running Lanyard server the way its users and
// their phones do, and measures how many complete mobile IDs it makes per
// second. Each worker logs in over the portal's HTML pages, walks the "Get
// mobile ID" process, enrolls the activation code through the app API with
// keys made as a phone makes them, and finishes the process: one iteration
// is one mobile ID, from the first page to the active state.
package loadgen

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Config is what one run does and where it aims.
type Config struct {
	// URL is the server's base URL, as a browser opens it. Every request of
	// the run, the enrollments included, goes there.
	URL string
	// UserPrefix and Users name the accounts the run logs in as:
	// <UserPrefix>1 to <UserPrefix><Users>, all with Password.
	UserPrefix string
	Users      int
	Password   string
	// Concurrency is the number of workers. Each owns its users, so no two
	// workers ever run a process for the same user at once.
	Concurrency int
	// Duration bounds the run: no iteration starts after it.
	Duration time.Duration
	// Count, when above zero, bounds the number of iterations started.
	Count int
	// AllowRemote permits a URL whose host is not a loopback address.
	AllowRemote bool
	// Timeout bounds each HTTP request; zero means 30 seconds.
	Timeout time.Duration
	// GiveUpAfter stops a worker whose iterations have failed for this
	// long without a success; zero means DefaultGiveUpAfter. A shorter
	// outage is waited out and reported.
	GiveUpAfter time.Duration
}

// Validate checks the configuration before anything is sent.
func (c Config) Validate() error {
	switch {
	case c.URL == "":
		return errors.New("--url is required")
	case c.Users < 1:
		return errors.New("--users must be at least 1")
	case c.Concurrency < 1:
		return errors.New("--concurrency must be at least 1")
	case c.Users < c.Concurrency:
		return fmt.Errorf("--users (%d) must be at least --concurrency (%d): each worker needs users of its own", c.Users, c.Concurrency)
	case c.Duration <= 0:
		return errors.New("--duration must be positive")
	case c.Count < 0:
		return errors.New("--count must not be negative")
	case c.UserPrefix == "":
		return errors.New("--user-prefix must not be empty")
	case c.Password == "":
		return errors.New("the password is empty")
	}
	_, err := parseTarget(c.URL, c.AllowRemote)
	return err
}

// parseTarget checks the base URL and, unless remote targets are allowed,
// that it names this machine: a load run must not reach another host by a
// typing mistake.
func parseTarget(raw string, allowRemote bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--url %q: want http:// or https://, a host and at most a path", raw)
	}
	if allowRemote || isLoopback(u.Hostname()) {
		return u, nil
	}
	return nil, fmt.Errorf("--url %q: the host is not a loopback address; add --allow-remote to load another machine", raw)
}

// isLoopback accepts "localhost" and literal loopback addresses. Other
// names are refused rather than resolved, since what a name resolves to
// when checked need not be what it resolves to when dialled.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
