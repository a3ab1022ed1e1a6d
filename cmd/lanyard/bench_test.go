package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/loadgen"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

const (
	benchPassword     = "bench password 1234"
	benchMetricsToken = "bench metrics token"
)

var benchUsers = flag.Int("users", 0, "BenchmarkMobileID: spread the mobile IDs over this many users, so that later ones replace earlier ones; 0: one user per mobile ID")

// startServer runs `lanyard serve` in-process on a free loopback port over
// a fresh database of engine, after `lanyard user import` made the users
// benchuser1 to benchuser<users>, and returns its URL and the password
// file of the users.
func startServer(tb testing.TB, engine string, users int) (url, pwFile string) {
	tb.Helper()
	tb.Setenv("LANYARD_INSECURE_FAST_HASH", "1")
	dir := tb.TempDir()
	db := []string{"--data", dir}
	if engine == "postgres" {
		db = append(db, "--db", testenv.DSN(tb, engine))
	}
	var csv strings.Builder
	csv.WriteString("username,email,common_name,state,roles,password\n")
	for i := 1; i <= users; i++ {
		fmt.Fprintf(&csv, "benchuser%d,benchuser%d@bench.invalid,Bench User %d,active,user,%s\n", i, i, i, benchPassword)
	}
	csvFile, pwFile := filepath.Join(dir, "users.csv"), filepath.Join(dir, "password")
	for name, content := range map[string]string{csvFile: csv.String(), pwFile: benchPassword + "\n", filepath.Join(dir, "metrics-token"): benchMetricsToken + "\n"} {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return serveImported(tb, dir, db, csvFile), pwFile
}

// serveImported imports the users of csvFile into the database db (with
// --data dir) and runs `lanyard serve` on it in-process on a free loopback
// port, with the metrics token of startServer; it returns the server's URL.
func serveImported(tb testing.TB, dir string, db []string, csvFile string) (url string) {
	tb.Helper()
	var out lockedBuffer
	if code := run(context.Background(), append([]string{"user", "import", csvFile}, db...), nil, &out, &out); code != 0 {
		tb.Fatalf("user import: exit %d: %s", code, out.String())
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", addr, "--log-level", "warn", "--metrics-token-file", filepath.Join(dir, "metrics-token")}, db...), nil, &out, &out)
	}()
	tb.Cleanup(func() { cancel(); <-done })
	url = "http://" + addr
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		select {
		case code := <-done:
			done <- code
			tb.Fatalf("serve exited with %d: %s", code, out.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("serve is not ready after 20 s: %s", out.String())
		}
	}
}

func TestBench(t *testing.T) {
	url, pw := startServer(t, "sqlite", 3)
	c := &cli{t: t}
	// One worker takes the users in turn: each gets its first mobile ID.
	out := c.ok("", "bench", "--url", url, "--users", "3", "--count", "3", "--password-file", pw)
	for _, want := range []string{"mobile IDs: 3 in ", "(0 replaced an active one)", "errors:     0\n", "latency:    p50 ", "concurrency 1", "speed:      a P-256 signature took "} {
		if !strings.Contains(out, want) {
			t.Errorf("bench output lacks %q:\n%s", want, out)
		}
	}
	// Now every user has one, so each new one locks the active one first.
	out = c.ok("", "bench", "--url", url, "--users", "3", "--concurrency", "3", "--count", "3", "--password-file", pw)
	if !strings.Contains(out, "mobile IDs: 3 in ") || !strings.Contains(out, "(3 replaced an active one)") {
		t.Errorf("second run:\n%s", out)
	}

	// The server runs in this process, so its CPU time and memory are
	// this process's.
	out = c.ok("", "bench", "--url", url, "--users", "3", "--count", "3", "--password-file", pw, "--server-pid", strconv.Itoa(os.Getpid()), "--postgres-cpu")
	checkServerUsage(t, out, fmt.Sprintf("; pid %d and the postgres processes), RSS at most ", os.Getpid()), true)
	token := writeFile(t, "token", benchMetricsToken+"\n")
	out = c.ok("", "bench", "--url", url, "--users", "3", "--count", "3", "--password-file", pw, "--metrics-token-file", token)
	checkServerUsage(t, out, "; /metrics), RSS at most ", false)
	wrong := writeFile(t, "wrong", "not the token\n")
	c.fails(1, "/metrics answered 401", "bench", "--url", url, "--users", "1", "--password-file", pw, "--metrics-token-file", wrong)
	c.fails(2, "not both", "bench", "--url", url, "--users", "1", "--password-file", pw, "--metrics-token-file", token, "--server-pid", "1")
	c.fails(2, "--postgres-cpu needs", "bench", "--url", url, "--users", "1", "--password-file", pw, "--postgres-cpu")

	c.fails(2, "not a loopback address", "bench", "--url", "http://192.0.2.1:8080", "--users", "1", "--password-file", pw)
	c.fails(2, "--password-file is required", "bench", "--url", url, "--users", "1")
	c.fails(2, "must be at least --concurrency", "bench", "--url", url, "--users", "1", "--concurrency", "2", "--password-file", pw)
	c.fails(2, "usage: lanyard bench", "bench", "extra", "--url", url, "--users", "1", "--password-file", pw)
	c.fails(1, "wrong username or password", "bench", "--url", url, "--users", "1", "--user-prefix", "nobody", "--password-file", pw)
}

// TestBenchServerGoneDuringTheRun: when the measured process is gone by
// the end of the run (a server that died), the run's figures are printed
// all the same, and the failure to measure it is one line, exit 1.
func TestBenchServerGoneDuringTheRun(t *testing.T) {
	url, pw := startServer(t, "sqlite", 2)
	// The measured process: one that exits during the run, and is reaped,
	// so that its /proc entry goes.
	gone := exec.Command("sleep", "2")
	if err := gone.Start(); err != nil {
		t.Fatal(err)
	}
	go gone.Wait()
	var stdout, stderr lockedBuffer
	code := run(t.Context(), []string{"bench", "--url", url, "--users", "2", "--concurrency", "2", "--duration", "4s",
		"--password-file", pw, "--server-pid", strconv.Itoa(gone.Process.Pid)}, nil, &stdout, &stderr)
	if code != 1 || !strings.Contains(stdout.String(), "mobile IDs: ") || !strings.Contains(stdout.String(), "errors:     0") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	if msg := strings.TrimSpace(stderr.String()); strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "the server's CPU after ") {
		t.Fatalf("stderr: %q, want one line on the server's CPU", msg)
	}
}

// TestBenchUsers: the import file of `lanyard bench users` gives users who
// share one password hash and log in with the password, and users without
// a password.
func TestBenchUsers(t *testing.T) {
	dir := t.TempDir()
	pw := writeFile(t, "password", benchPassword+"\n")
	c := &cli{t: t}
	csv := c.ok("", "bench", "users", "--users", "3", "--without-password", "2", "--password-file", pw)
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if len(lines) != 6 || lines[0] != "username,email,common_name,state,roles,password" ||
		!strings.HasPrefix(lines[1], `benchuser1,benchuser1@bench.invalid,Bench User 1,active,user,"$argon2id$v=19$`) ||
		lines[4] != "benchuser-none-1,benchuser-none-1@bench.invalid,Bench Directory User 1,active,user," {
		t.Fatalf("bench users wrote:\n%s", csv)
	}
	if strings.Contains(csv, benchPassword) {
		t.Fatal("the file holds the password in clear")
	}
	csvFile := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(csvFile, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics-token"), []byte(benchMetricsToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url := serveImported(t, dir, []string{"--data", dir}, csvFile)
	out := c.ok("", "bench", "--url", url, "--users", "3", "--count", "3", "--password-file", pw)
	if !strings.Contains(out, "mobile IDs: 3 in ") || !strings.Contains(out, "errors:     0\n") {
		t.Fatalf("bench with the users of bench users:\n%s", out)
	}
	c.fails(1, "wrong username or password", "bench", "--url", url, "--users", "1", "--user-prefix", "benchuser-none-", "--password-file", pw)

	c.fails(2, "--users must be at least 1", "bench", "users", "--password-file", pw)
	c.fails(2, "--password-file is required", "bench", "users", "--users", "1")
	c.fails(2, "must not be negative", "bench", "users", "--users", "1", "--without-password", "-1", "--password-file", pw)
}

// checkServerUsage finds the server's line in a bench output, with a CPU
// time per mobile ID and a memory above zero, and PostgreSQL's line when
// asked for.
func checkServerUsage(t *testing.T, out, source string, postgres bool) {
	t.Helper()
	var perID, rss float64
	i := strings.Index(out, "server:     ")
	if i < 0 {
		t.Fatalf("no server line:\n%s", out)
	}
	line, _, _ := strings.Cut(out[i:], "\n")
	if _, err := fmt.Sscanf(line, "server:     %f ms CPU per mobile ID", &perID); err != nil || perID < 0 {
		t.Errorf("server line %q: %v", line, err)
	}
	j := strings.Index(line, source)
	if j < 0 {
		t.Fatalf("server line %q lacks %q", line, source)
	}
	if _, err := fmt.Sscanf(line[j+len(source):], "%f MB", &rss); err != nil || rss <= 0 {
		t.Errorf("server line %q: memory %v, %v", line, rss, err)
	}
	if got := strings.Contains(out, "\npostgres:   "); got != postgres {
		t.Errorf("postgres line shown %t, want %t:\n%s", got, postgres, out)
	}
	// Samples of the machine's speed are taken from the run's start, so
	// the figure, with PostgreSQL's when counted, is also given scaled by
	// the speed during the run to the quiet machine's.
	total := perID
	if postgres {
		k := strings.Index(out, "; together ")
		if k < 0 {
			t.Fatalf("no total of both processes:\n%s", out)
		}
		if _, err := fmt.Sscanf(out[k:], "; together %f ms", &total); err != nil {
			t.Fatalf("total of both processes: %v\n%s", err, out)
		}
	}
	var during float64
	k := strings.Index(out, " µs before the run, ")
	if k < 0 {
		t.Fatalf("no speed during the run:\n%s", out)
	}
	if _, err := fmt.Sscanf(out[k+len(" µs before the run, "):], "%f µs during it (median of ", &during); err != nil || during <= 0 {
		t.Fatalf("speed during the run %v, %v:\n%s", during, err, out)
	}
	var scaled, signatures float64
	k = strings.Index(out, "scaled:     ")
	if k < 0 {
		t.Fatalf("no scaled line:\n%s", out)
	}
	line, _, _ = strings.Cut(out[k:], "\n")
	if _, err := fmt.Sscanf(line, "scaled:     %f ms CPU per mobile ID where a signature takes 21 µs (an estimate: %f signatures' time of this run)", &scaled, &signatures); err != nil {
		t.Fatalf("scaled line %q: %v", line, err)
	}
	// The printed figures are rounded: to 0.01 ms, 0.1 µs and a whole
	// signature.
	near := func(got, want, abs float64) bool { return math.Abs(got-want) <= abs+0.02*want }
	if want := total * 21 / during; !near(scaled, want, 0.02) {
		t.Errorf("scaled %.2f ms, want %.2f ms × 21 µs / %.1f µs = %.2f ms", scaled, total, during, want)
	}
	if want := total * 1000 / during; !near(signatures, want, 1) {
		t.Errorf("%.0f signatures' time, want %.2f ms / %.1f µs = %.1f", signatures, total, during, want)
	}
}

// BenchmarkMobileID makes b.N complete mobile IDs on an in-process server
// with 4 workers, as `lanyard bench` does: logins outside the timer, then
// the pages, the enrollment and Next. By default there are as many users
// as mobile IDs, so each is a user's first and the cost per mobile ID does
// not grow with b.N. With -users N, later mobile IDs replace earlier ones,
// and each replacement revokes two certificates and grows the CRL.
func BenchmarkMobileID(b *testing.B) {
	for _, engine := range testenv.Engines {
		b.Run(engine, func(b *testing.B) {
			const workers = 4
			users := max(b.N, workers)
			if *benchUsers > 0 {
				users = max(*benchUsers, workers)
			}
			url, pwFile := startServer(b, engine, users)
			pw, _ := os.ReadFile(pwFile)
			d, err := loadgen.New(b.Context(), loadgen.Config{
				URL: url, UserPrefix: "benchuser", Users: users, Password: strings.TrimSpace(string(pw)),
				Concurrency: workers, Duration: time.Hour, Count: b.N,
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			r := d.Run(b.Context())
			b.StopTimer()
			for _, k := range r.ErrorKinds() {
				b.Errorf("%d failed: %s", r.Errors[k], r.Examples[k])
			}
			b.ReportMetric(r.PerSecond(), "mobileids/s")
			b.ReportMetric(float64(r.Percentile(50))/1e6, "p50-ms")
			b.ReportMetric(float64(r.Percentile(99))/1e6, "p99-ms")
		})
	}
}

// lockedBuffer is an output that the in-process server and the test
// share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
