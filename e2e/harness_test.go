package e2e_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bounds of every wait on a process. The machine the tests run on may be
// small and shared, so they are generous; a healthy run stays far below.
const (
	readyTimeout   = 20 * time.Second
	stopTimeout    = 20 * time.Second
	commandTimeout = 30 * time.Second
)

// syncBuffer collects the output of a process while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// childEnv is the environment of every lanyard process: this process's
// environment without any LANYARD_ setting, which would change what is
// tested, plus the cheap password hash and the given extra variables.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LANYARD_") {
			env = append(env, kv)
		}
	}
	env = append(env, "LANYARD_INSECURE_FAST_HASH=1")
	return append(env, extra...)
}

// freeAddr returns a loopback address with a port that was free a moment
// ago. The tests run one after another, so no other test takes it.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// instance names the data of one Lanyard installation: its data folder
// and, for PostgreSQL, its database URL. Servers and commands given the
// same instance share one database.
type instance struct {
	data string
	db   string // empty: SQLite in data
}

// newInstance returns a fresh installation on the given engine.
func newInstance(t testing.TB, engine string) instance {
	t.Helper()
	in := instance{data: filepath.Join(t.TempDir(), "data")}
	switch engine {
	case "sqlite":
	case "postgres":
		in.db = postgresSchema(t)
	default:
		t.Fatalf("unknown engine %q", engine)
	}
	return in
}

// args are the flags that point a command at the installation.
func (in instance) args() []string {
	a := []string{"--data", in.data}
	if in.db != "" {
		a = append(a, "--db", in.db)
	}
	return a
}

// server is one running `lanyard serve` process.
type server struct {
	t      testing.TB
	name   string
	addr   string
	url    string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // the result of Wait, once done is closed
}

// startServer starts `lanyard serve` for the installation on a free port
// with the extra flags, without waiting for it to be ready. The process is
// killed when the test ends, and its output is logged if the test failed.
func startServer(t testing.TB, in instance, extra ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{"serve", "--listen", addr}, in.args()...)
	return startProcess(t, "serve "+addr, addr, childEnv(), append(args, extra...)...)
}

// startProcess starts the lanyard binary with args as a server expected
// at addr.
func startProcess(t testing.TB, name, addr string, env []string, args ...string) *server {
	t.Helper()
	s := &server{
		t: t, name: name, addr: addr, url: "http://" + addr,
		stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{}),
	}
	s.cmd = exec.Command(lanyardBin, args...)
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start lanyard %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			select {
			case <-s.done:
			case <-time.After(stopTimeout):
				t.Errorf("%s: still running after being killed", s.name)
			}
		}
		if t.Failed() {
			t.Logf("%s stdout:\n%s", s.name, s.stdout)
			t.Logf("%s stderr:\n%s", s.name, s.stderr)
		}
	})
	return s
}

// exited reports whether the process has ended.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// waitReady polls /readyz until it answers 200 and fails the test if the
// process exits or the deadline passes first.
func (s *server) waitReady() {
	s.t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	for {
		if s.exited() {
			s.t.Fatalf("%s exited before it was ready (%v); stderr:\n%s", s.name, s.err, s.stderr)
		}
		resp, err := c.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s was not ready within %s (last answer: %v); stderr:\n%s", s.name, readyTimeout, describe(resp, err), s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitServing waits until the server says it serves, for servers whose
// /readyz cannot be reached over plain HTTP.
func (s *server) waitServing() {
	s.t.Helper()
	if !waitFor(readyTimeout, func() bool { return strings.Contains(s.stderr.String(), `msg="lanyard serving"`) || s.exited() }) || s.exited() {
		s.t.Fatalf("%s does not serve (%v); stderr:\n%s", s.name, s.err, s.stderr)
	}
}

func describe(resp *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return resp.Status
}

// stop sends SIGTERM and waits for the process to exit. It returns the
// exit code and how long the exit took, and fails the test if the process
// is still running after the timeout.
func (s *server) stop(timeout time.Duration) (int, time.Duration) {
	s.t.Helper()
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !s.exited() {
		s.t.Fatalf("%s: send SIGTERM: %v", s.name, err)
	}
	select {
	case <-s.done:
	case <-time.After(timeout):
		s.t.Fatalf("%s did not exit within %s of SIGTERM; stderr:\n%s", s.name, timeout, s.stderr)
	}
	return exitCode(s.err), time.Since(start)
}

// stopOK stops the server and fails the test unless it exits with 0.
func (s *server) stopOK() {
	s.t.Helper()
	if code, _ := s.stop(stopTimeout); code != 0 {
		s.t.Fatalf("%s exited with %d after SIGTERM, want 0; stderr:\n%s", s.name, code, s.stderr)
	}
}

// exitCode turns the result of Wait or Run into an exit code; -1 stands
// for a process that did not exit by itself.
func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode()
	}
	return -1
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// randomText returns a fresh random string of 26 letters and digits, for
// passwords a test must later find nowhere.
func randomText() string { return rand.Text() }
