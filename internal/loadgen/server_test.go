package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/testenv"
)

func TestParseProcStat(t *testing.T) {
	// The name may hold spaces and parentheses; the fields count from the
	// last closing one.
	line := "4242 (post gres) (x)) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 75 30 12 20 0 1 0 99 1000 10 18446744073709551615"
	st, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if st.comm != "post gres) (x)" || st.ppid != 17 || st.cpu != 3250*time.Millisecond || st.reaped != 420*time.Millisecond {
		t.Errorf("parsed %+v", st)
	}
	for _, bad := range []string{"", "4242 no name S 1", "1 (x) S 1 2 3", "1 (x) S one 1 1 0 -1 0 0 0 0 0 1 1 0 0"} {
		if _, err := parseProcStat(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestProbeProcess measures a real child process that burns CPU and holds
// memory, from /proc.
func TestProbeProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	if os.Getenv("LANYARD_PROBE_CHILD") == "1" {
		buf := make([]byte, 64<<20)
		for i := range buf {
			buf[i] = byte(i)
		}
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
			buf[0]++
		}
		return
	}
	cmd := startChild(t, "^TestProbeProcess$", "LANYARD_PROBE_CHILD=1")
	p := &Probe{PID: cmd.Process.Pid, Every: 10 * time.Millisecond}
	m, err := p.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	u, err := m.Stop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.CPU <= 0 || u.MaxRSS < 64<<20 || u.Postgres {
		t.Errorf("a process spinning for 1 s with 64 MiB: %+v", u)
	}
	if u.Source != fmt.Sprintf("pid %d", cmd.Process.Pid) {
		t.Errorf("source %q", u.Source)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := p.Start(context.Background()); err == nil {
		t.Error("a process that ended was measured")
	}
}

// TestSettle waits out a real child process that burns CPU for three
// seconds and then rests: Settle returns once it rests, not before and
// not at its limit; a process that ends is an error.
func TestSettle(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	if os.Getenv("LANYARD_SETTLE_CHILD") == "1" {
		n := 0
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
			n++
		}
		time.Sleep(time.Minute)
		return
	}
	cmd := startChild(t, "^TestSettle$", "LANYARD_SETTLE_CHILD=1")
	p := &Probe{PID: cmd.Process.Pid}
	const limit = 20 * time.Second
	waited, err := p.Settle(context.Background(), limit)
	if err != nil || waited < 2*time.Second || waited >= limit {
		t.Errorf("settled after %s, %v; want once the burning ended, about 3 s", waited, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := p.Settle(context.Background(), limit); err == nil {
		t.Error("a process that ended settled")
	}
}

// startChild runs this test binary again as a child process, running the
// tests that match run with env added; it is killed when t ends.
func startChild(t *testing.T, run, env string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", run)
	cmd.Env = append(os.Environ(), env)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

func TestProbeMetrics(t *testing.T) {
	cpu := 12.5
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer right" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "# HELP process_cpu_seconds_total x\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %g\nprocess_resident_memory_bytes 5.24288e+07\ngo_goroutines 9\n", cpu)
		cpu += 0.25
	}))
	defer srv.Close()
	p := &Probe{MetricsURL: srv.URL, MetricsToken: "right"}
	m, err := p.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	u, err := m.Stop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.CPU != 250*time.Millisecond || u.MaxRSS != 52428800 || u.Source != "/metrics" {
		t.Errorf("usage %+v", u)
	}
	p = &Probe{MetricsURL: srv.URL, MetricsToken: "wrong"}
	if _, err := p.Start(context.Background()); err == nil {
		t.Error("a refused scrape gave figures")
	}
}

// TestPostgresCPU reads this machine's PostgreSQL, where it runs.
func TestPostgresCPU(t *testing.T) {
	d, err := postgresCPU()
	if err != nil {
		testenv.Unavailable(t, "no PostgreSQL processes here: %v", err)
	}
	if d <= 0 {
		t.Errorf("PostgreSQL has used %s of CPU", d)
	}
}
