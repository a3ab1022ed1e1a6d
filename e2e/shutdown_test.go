package e2e_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown sends SIGTERM to a serving process in several
// situations and checks that it exits in time, and with 0 when it could
// finish every request.
func TestGracefulShutdown(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration // --shutdown-timeout
		within  time.Duration // the exit must come this soon after SIGTERM
		setup   func(t *testing.T, s *server) (after func())
		codes   []int // acceptable exit codes
	}{
		{
			name: "idle", timeout: 10 * time.Second, within: 5 * time.Second, codes: []int{0},
		},
		{
			// An idle keep-alive connection must not hold the exit up.
			name: "idle keep-alive connection", timeout: 10 * time.Second, within: 5 * time.Second, codes: []int{0},
			setup: func(t *testing.T, s *server) func() {
				c := newClient(nil)
				if r := fetch(t, c, s.url+"/healthz", nil); r.status != http.StatusOK {
					t.Fatalf("GET /healthz: status %d", r.status)
				}
				return c.CloseIdleConnections
			},
		},
		{
			// A request that arrived before SIGTERM is answered, although
			// its body comes in only after the server stopped listening.
			name: "request in flight", timeout: 10 * time.Second, within: 8 * time.Second, codes: []int{0},
			setup: func(t *testing.T, s *server) func() {
				conn, rest := startSlowLogin(t, s)
				return func() {
					waitRefused(t, s.addr)
					if _, err := conn.Write([]byte(rest)); err != nil {
						t.Fatalf("send the rest of the request after SIGTERM: %v", err)
					}
					resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
					if err != nil {
						t.Fatalf("read the answer to the request in flight: %v", err)
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("request in flight: status %d, want 401 (wrong password)", resp.StatusCode)
					}
				}
			},
		},
		{
			// A client that never finishes its request cannot keep the
			// process alive past the shutdown timeout. Exit code 1 (with
			// its one line on stderr) says the drain was cut short.
			name: "stuck client", timeout: 2 * time.Second, within: 2*time.Second + 3*time.Second, codes: []int{1},
			setup: func(t *testing.T, s *server) func() {
				startSlowLogin(t, s)
				return func() { waitRefused(t, s.addr) }
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInstance(t, "sqlite")
			s := startServer(t, in, "--shutdown-timeout", tt.timeout.String())
			s.waitReady()
			var after func()
			if tt.setup != nil {
				after = tt.setup(t, s)
			}
			start := time.Now()
			if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if after != nil {
				after()
			}
			select {
			case <-s.done:
			case <-time.After(tt.within + time.Second):
				t.Fatalf("still running %s after SIGTERM (--shutdown-timeout %s)", tt.within+time.Second, tt.timeout)
			}
			took := time.Since(start)
			code := exitCode(s.err)
			t.Logf("exit code %d after %s", code, took.Round(time.Millisecond))
			if took > tt.within {
				t.Errorf("exit took %s, want at most %s", took, tt.within)
			}
			ok := false
			for _, c := range tt.codes {
				ok = ok || c == code
			}
			if !ok {
				t.Errorf("exit code %d, want one of %v; stderr:\n%s", code, tt.codes, s.stderr)
			}
			if code == 1 {
				// The log comes first; the reason is the last line.
				stderr := s.stderr.String()
				lines := strings.SplitAfter(strings.TrimSuffix(stderr, "\n"), "\n")
				checkOneErrorLine(t, lines[len(lines)-1]+"\n", "")
			}
		})
	}
}

// startSlowLogin opens a connection to s and sends a login request whose
// body is incomplete, so that its handler is busy reading. It returns the
// connection and the rest of the body.
func startSlowLogin(t *testing.T, s *server) (net.Conn, string) {
	t.Helper()
	body := "username=nobody&password=not-the-password"
	conn, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	head := fmt.Sprintf("POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", s.addr, len(body))
	if _, err := conn.Write([]byte(head + body[:10])); err != nil {
		t.Fatal(err)
	}
	// Give the server a moment to read the header and start the handler.
	time.Sleep(200 * time.Millisecond)
	return conn, body[10:]
}

// waitRefused waits until addr no longer accepts connections: the server
// has closed its listener and begun to shut down.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	ok := waitFor(10*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	if !ok {
		t.Fatalf("%s still accepts connections 10s after SIGTERM", addr)
	}
}

// checkOneErrorLine checks that stderr is exactly one line starting
// "lanyard: " and containing want.
func checkOneErrorLine(t *testing.T, stderr, want string) {
	t.Helper()
	if !strings.HasPrefix(stderr, "lanyard: ") || !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want exactly one line starting \"lanyard: \"", stderr)
		return
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr = %q, want it to mention %q", stderr, want)
	}
}
