package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard/internal/loadgen"
)

const benchUsage = "bench --url URL --users N --password-file F [--concurrency C] [--duration D] [--count K] [--user-prefix P] [--server-pid PID | --metrics-token-file F] [--postgres-cpu]; bench ocsp --help; bench users --help"

const benchHelp = `Each worker logs in as its users, then makes mobile IDs one after the other:
the Get Mobile ID pages, the enrollment through the app API with new keys, and
Next. The users <user-prefix>1 to <user-prefix>N must exist, be active and share
the password; 'lanyard user import' creates them (see docs/performance.md).
Use a server whose data may be thrown away: every mobile ID stays in it.

With --server-pid (a server on this machine) or --metrics-token-file (its
/metrics), the run also reports the server's CPU time per mobile ID and the
most memory it held; --postgres-cpu adds the CPU time of this machine's
PostgreSQL processes.`

// runBench measures complete mobile IDs per second on a running server,
// through its pages and its app API, as users with phones would make them.
// It needs users <prefix>1 to <prefix>N with one password; `lanyard user
// import` creates them (see docs/performance.md).
func runBench(ctx context.Context, e env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "ocsp":
			return runBenchOCSP(ctx, e, args[1:])
		case "bare-server":
			return runBenchBareServer(ctx, e, args[1:])
		case "users":
			return runBenchUsers(ctx, e, args[1:])
		}
	}
	cfg := loadgen.Config{UserPrefix: "benchuser", Concurrency: 1, Duration: 10 * time.Second}
	var pwFile, tokenFile string
	var probe loadgen.Probe
	fs := newHelpFlagSet(e, "bench", benchUsage, benchHelp)
	fs.StringVar(&cfg.URL, "url", "", "base URL of the running server (required; loopback only unless --allow-remote)")
	fs.IntVar(&cfg.Users, "users", 0, "number of users <user-prefix>1 to <user-prefix>N (required, at least --concurrency)")
	fs.StringVar(&pwFile, "password-file", "", "file holding the users' password; - reads stdin (required)")
	fs.StringVar(&cfg.UserPrefix, "user-prefix", cfg.UserPrefix, "prefix of the usernames")
	fs.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "number of workers, each making one mobile ID at a time")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "stop starting mobile IDs after this long")
	fs.IntVar(&cfg.Count, "count", 0, "stop after starting this many mobile IDs (0: no limit; --duration still applies)")
	fs.DurationVar(&cfg.GiveUpAfter, "give-up-after", loadgen.DefaultGiveUpAfter, "stop a worker whose mobile IDs have failed for this long without a success; a shorter outage is waited out")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow a URL whose host is not a loopback address")
	fs.IntVar(&probe.PID, "server-pid", 0, "process ID of the server on this machine, to report its CPU time and memory")
	fs.StringVar(&tokenFile, "metrics-token-file", "", "file holding the bearer token of the server's /metrics, to report its CPU time and memory from there")
	fs.BoolVar(&probe.Postgres, "postgres-cpu", false, "also report the CPU time of this machine's PostgreSQL processes")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, 0, benchUsage); err != nil {
		return err
	}
	if pwFile == "" {
		return fmt.Errorf("%w: --password-file is required (see --help)", errUsage)
	}
	if cfg.Password, err = readSecretFile(e, pwFile); err != nil {
		return err
	}
	if cfg.Password == "" {
		return fmt.Errorf("the password file %s is empty", pwFile)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	measure := probe.PID != 0 || tokenFile != "" || probe.Postgres
	if probe.PID != 0 && tokenFile != "" {
		return fmt.Errorf("%w: give --server-pid or --metrics-token-file, not both", errUsage)
	}
	if probe.PID == 0 && probe.Postgres && tokenFile == "" {
		return fmt.Errorf("%w: --postgres-cpu needs --server-pid or --metrics-token-file", errUsage)
	}
	if tokenFile != "" {
		if probe.MetricsToken, err = readSecretFile(e, tokenFile); err != nil {
			return err
		}
		probe.MetricsURL = strings.TrimRight(cfg.URL, "/") + "/metrics"
	}
	d, err := loadgen.New(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "target:     %s, %d users, concurrency %d, for %s", cfg.URL, cfg.Users, cfg.Concurrency, cfg.Duration)
	if cfg.Count > 0 {
		fmt.Fprintf(e.stdout, " or %d mobile IDs", cfg.Count)
	}
	fmt.Fprintf(e.stdout, "\nmachine:    %s/%s, %d CPUs, %s\nlogins:     %d in %s\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), cfg.Users, d.LoginTime.Round(time.Millisecond))
	var m *loadgen.Measurement
	if measure {
		// Started after the logins, whose password hashing is not part of
		// a mobile ID, once the server has gone quiet after them.
		waited, err := probe.Settle(ctx, 10*time.Second)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "settled:    %s after the logins\n", waited.Round(100*time.Millisecond))
	}
	// The machine's speed is measured outside the server's measured part.
	var speed loadgen.Speed
	if speed.Before, err = loadgen.SignatureTime(loadgen.SpeedSamples); err != nil {
		return err
	}
	if measure {
		if m, err = probe.Start(ctx); err != nil {
			return err
		}
	}
	sampler, err := loadgen.StartSpeedSampler()
	if err != nil {
		return err
	}
	r := d.Run(ctx)
	// The run's own figures first: they stand even when what follows
	// fails, a server that died during the run among them.
	printBenchResult(e.stdout, r)
	if speed.During, speed.Samples, err = sampler.Stop(); err != nil {
		return err
	}
	var u *loadgen.Usage
	if m != nil {
		if u, err = m.Stop(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("the server's CPU after %d mobile IDs: %w", r.MobileIDs(), err)
		}
	}
	if speed.After, err = loadgen.SignatureTime(loadgen.SpeedSamples); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "speed:      %s\n", speed)
	if u != nil {
		printServerUsage(e.stdout, u, r.MobileIDs(), speed)
	}
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted after %d mobile IDs", r.MobileIDs())
	case r.ErrorCount() > 0:
		return fmt.Errorf("%d of %d mobile IDs failed; the first of each kind is shown above", r.ErrorCount(), r.ErrorCount()+r.MobileIDs())
	}
	return nil
}

func printBenchResult(w io.Writer, r *loadgen.Result) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(w, "mobile IDs: %d in %s = %.2f/s (%d replaced an active one)\n",
		r.MobileIDs(), r.Elapsed.Round(time.Millisecond), r.PerSecond(), r.Replaced)
	fmt.Fprintf(w, "latency:    p50 %s, p90 %s, p99 %s, max %s\n",
		ms(r.Percentile(50)), ms(r.Percentile(90)), ms(r.Percentile(99)), ms(r.Percentile(100)))
	fmt.Fprintf(w, "errors:     %d\n", r.ErrorCount())
	for _, k := range r.ErrorKinds() {
		fmt.Fprintf(w, "  %5d  %s (first: %s)\n", r.Errors[k], k, strings.Join(strings.Fields(r.Examples[k]), " "))
	}
	if r.LongestFailing > 0 {
		fmt.Fprintf(w, "failing:    at most %s without a success\n", r.LongestFailing.Round(time.Millisecond))
	}
	if r.GaveUp > 0 {
		fmt.Fprintf(w, "stopped:    %d workers whose mobile IDs kept failing (--give-up-after)\n", r.GaveUp)
	}
}

// printServerUsage shows what the run cost the server, per mobile ID made
// (the work of failed ones included).
func printServerUsage(w io.Writer, u *loadgen.Usage, mobileIDs int, speed loadgen.Speed) {
	per := func(d time.Duration) string {
		if mobileIDs == 0 {
			return "no mobile ID made"
		}
		return fmt.Sprintf("%.2f ms CPU per mobile ID", float64(d)/float64(time.Millisecond)/float64(mobileIDs))
	}
	fmt.Fprintf(w, "server:     %s (%s in all; %s), RSS at most %.1f MB\n",
		per(u.CPU), u.CPU.Round(10*time.Millisecond), u.Source, float64(u.MaxRSS)/1e6)
	if u.Postgres {
		fmt.Fprintf(w, "postgres:   %s (%s in all); together %s\n", per(u.PostgresCPU), u.PostgresCPU.Round(10*time.Millisecond), per(u.CPU+u.PostgresCPU))
	}
	all := u.CPU + u.PostgresCPU
	if scaled, ok := speed.Scaled(all); ok && mobileIDs > 0 {
		fmt.Fprintf(w, "scaled:     %s where a signature takes %.0f µs (an estimate: %.0f signatures' time of this run)\n",
			per(scaled), float64(loadgen.QuietSignature)/float64(time.Microsecond), float64(all)/float64(mobileIDs)/float64(speed.During))
	}
}
