package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTick is the unit of the CPU times in /proc/PID/stat (USER_HZ):
// 100 a second on every Linux architecture Go runs on.
const clockTick = 10 * time.Millisecond

// Probe measures what a run costs the server: the CPU time of its process
// (and of PostgreSQL's processes when asked) and the most memory the
// process held while the run went on. It reads /proc for a process on this
// machine, or the server's /metrics when no process is named.
type Probe struct {
	// PID is the server's process on this machine; 0 reads /metrics.
	PID int
	// Postgres adds the CPU time of every process named "postgres".
	Postgres bool
	// MetricsURL and MetricsToken reach the server's /metrics when PID is 0.
	MetricsURL   string
	MetricsToken string
	// Every is how often the memory is sampled; zero means 100 ms.
	Every time.Duration

	client *http.Client
}

// Usage is what a probe measured between Start and Stop.
type Usage struct {
	// Source says where the figures come from.
	Source string
	// CPU is the server's CPU time, user and system.
	CPU time.Duration
	// Postgres says the probe was asked for PostgreSQL's CPU time too, and
	// PostgresCPU is that.
	Postgres    bool
	PostgresCPU time.Duration
	// MaxRSS is the largest resident memory sampled, in bytes.
	MaxRSS int64
}

type sample struct {
	cpu, pg time.Duration
	rss     int64
}

// Measurement is a probe that started; Stop ends it.
type Measurement struct {
	p      *Probe
	start  sample
	maxRSS int64
	mu     sync.Mutex
	stop   chan struct{}
	done   chan struct{}
}

// Settle waits until the server has gone quiet: until it used less than
// a twentieth of a core in a second (the server's process only), for at
// most limit, or until ctx ends. It returns how long it waited. After the
// logins, the server is still collecting the garbage of their password
// hashes and giving that memory back, which no mobile ID costs.
func (p *Probe) Settle(ctx context.Context, limit time.Duration) (time.Duration, error) {
	begin := time.Now()
	prev, err := p.read(ctx)
	if err != nil {
		return 0, err
	}
	for time.Since(begin) < limit {
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return time.Since(begin), ctx.Err()
		case <-t.C:
		}
		now, err := p.read(ctx)
		if err != nil {
			return time.Since(begin), err
		}
		if now.cpu-prev.cpu < 50*time.Millisecond {
			break
		}
		prev = now
	}
	return time.Since(begin), nil
}

// Start takes the first reading and samples the memory until Stop.
func (p *Probe) Start(ctx context.Context) (*Measurement, error) {
	first, err := p.read(ctx)
	if err != nil {
		return nil, err
	}
	m := &Measurement{p: p, start: first, maxRSS: first.rss, stop: make(chan struct{}), done: make(chan struct{})}
	every := p.Every
	if every <= 0 {
		every = 100 * time.Millisecond
	}
	if p.PID == 0 {
		// A scrape costs the server more than a look at /proc.
		every = max(every, time.Second)
	}
	go func() {
		defer close(m.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
				if s, err := p.readRSS(ctx); err == nil {
					m.noteRSS(s)
				}
			}
		}
	}()
	return m, nil
}

func (m *Measurement) noteRSS(rss int64) {
	m.mu.Lock()
	m.maxRSS = max(m.maxRSS, rss)
	m.mu.Unlock()
}

// Stop takes the last reading and returns the usage in between.
func (m *Measurement) Stop(ctx context.Context) (*Usage, error) {
	close(m.stop)
	<-m.done
	last, err := m.p.read(ctx)
	if err != nil {
		return nil, err
	}
	m.noteRSS(last.rss)
	u := &Usage{CPU: last.cpu - m.start.cpu, MaxRSS: m.maxRSS, Source: m.p.source()}
	if m.p.Postgres {
		u.Postgres, u.PostgresCPU = true, last.pg-m.start.pg
	}
	return u, nil
}

func (p *Probe) source() string {
	s := fmt.Sprintf("pid %d", p.PID)
	if p.PID == 0 {
		s = "/metrics"
	}
	if p.Postgres {
		s += " and the postgres processes"
	}
	return s
}

func (p *Probe) read(ctx context.Context) (sample, error) {
	var s sample
	var err error
	if p.PID != 0 {
		var st procStat
		if st, err = readProcStat(p.PID); err != nil {
			return s, fmt.Errorf("read the server's CPU time: %w", err)
		}
		s.cpu = st.cpu
		if s.rss, err = readProcRSS(p.PID); err != nil {
			return s, fmt.Errorf("read the server's memory: %w", err)
		}
	} else if s.cpu, s.rss, err = p.scrape(ctx); err != nil {
		return s, err
	}
	if p.Postgres {
		if s.pg, err = postgresCPU(); err != nil {
			return s, fmt.Errorf("read PostgreSQL's CPU time: %w", err)
		}
	}
	return s, nil
}

func (p *Probe) readRSS(ctx context.Context) (int64, error) {
	if p.PID != 0 {
		return readProcRSS(p.PID)
	}
	_, rss, err := p.scrape(ctx)
	return rss, err
}

// procStat is what the probe takes from /proc/PID/stat.
type procStat struct {
	comm   string
	ppid   int
	cpu    time.Duration // the process's own, user and system
	reaped time.Duration // of its children that ended and were waited for
}

// readProcStat parses /proc/PID/stat (proc(5)). The command name is in
// parentheses and may itself hold spaces and parentheses, so the fields
// are counted from the last closing one.
func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(string(b))
}

func parseProcStat(s string) (procStat, error) {
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return procStat{}, errors.New("unexpected /proc stat format")
	}
	// After the name: state (3), ppid (4), … utime (14), stime (15),
	// cutime (16), cstime (17).
	f := strings.Fields(s[closing+1:])
	if len(f) < 15 {
		return procStat{}, errors.New("unexpected /proc stat format")
	}
	var n [5]int64
	for i, field := range []int{4, 14, 15, 16, 17} {
		v, err := strconv.ParseInt(f[field-3], 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("unexpected /proc stat field %d: %w", field, err)
		}
		n[i] = v
	}
	return procStat{
		comm:   s[open+1 : closing],
		ppid:   int(n[0]),
		cpu:    time.Duration(n[1]+n[2]) * clockTick,
		reaped: time.Duration(n[3]+n[4]) * clockTick,
	}, nil
}

// readProcRSS returns the resident memory of a process, VmRSS of
// /proc/PID/status.
func readProcRSS(pid int) (int64, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("unexpected VmRSS %q", v)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// postgresCPU is the CPU time of PostgreSQL on this machine: every live
// process named postgres, and for each whose parent is not one (the
// postmaster) the time of its children that ended, such as the backends
// of connections closed during the run.
func postgresCPU() (time.Duration, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	procs := map[int]procStat{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readProcStat(pid)
		if err != nil || st.comm != "postgres" {
			continue // gone since the listing, or another program
		}
		procs[pid] = st
	}
	if len(procs) == 0 {
		return 0, errors.New("no process named postgres on this machine")
	}
	var total time.Duration
	for _, st := range procs {
		total += st.cpu
		if _, child := procs[st.ppid]; !child {
			total += st.reaped
		}
	}
	return total, nil
}

// scrape reads the process CPU and memory a Go server exports on /metrics.
func (p *Probe) scrape(ctx context.Context) (cpu time.Duration, rss int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.MetricsURL, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("metrics URL: %w", err)
	}
	if p.MetricsToken != "" {
		req.Header.Set("Authorization", "Bearer "+p.MetricsToken)
	}
	if p.client == nil {
		p.client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("read the server's /metrics: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return 0, 0, fmt.Errorf("read the server's /metrics: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("the server's /metrics answered %s; give --metrics-token-file or --server-pid", resp.Status)
	}
	var haveCPU, haveRSS bool
	for line := range bytes.Lines(body) {
		name, value, ok := strings.Cut(strings.TrimSpace(string(line)), " ")
		if !ok {
			continue
		}
		v, perr := strconv.ParseFloat(value, 64)
		switch {
		case perr != nil:
		case name == "process_cpu_seconds_total":
			cpu, haveCPU = time.Duration(v*float64(time.Second)), true
		case name == "process_resident_memory_bytes":
			rss, haveRSS = int64(v), true
		}
	}
	if !haveCPU || !haveRSS {
		return 0, 0, errors.New("the server's /metrics has no process_cpu_seconds_total or process_resident_memory_bytes")
	}
	return cpu, rss, nil
}
