package e2e_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestBadConfiguration starts serve with settings it must refuse: each
// exits 1 with one line on stderr naming the problem. Then it checks that
// a flag wins over the environment, and the environment over the file.
func TestBadConfiguration(t *testing.T) {
	dir := t.TempDir()
	unknown := writeFile(t, dir, "unknown.conf", "# A setting serve does not have.\ncolour = blue\n")
	badValue := writeFile(t, dir, "bad-value.conf", "shutdown-timeout = soon\n")
	missing := filepath.Join(dir, "missing.conf")
	folder := filepath.Join(dir, "folder.conf")
	if err := os.Mkdir(folder, 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string // the error line mentions this
	}{
		{"listen address without port", []string{"--listen", "nonsense"}, "--listen"},
		{"database other than PostgreSQL", []string{"--db", "mysql://x"}, "--db"},
		{"unknown log format", []string{"--log-format", "xml"}, "--log-format"},
		{"missing config file", []string{"--config", missing}, missing},
		{"config file that cannot be read", []string{"--config", folder}, folder},
		{"unknown setting in config file", []string{"--config", unknown}, "colour"},
		{"bad value in config file", []string{"--config", badValue}, "shutdown-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			// A valid address comes first; the case's flags override it.
			// Were a bad setting accepted, serve would run until the
			// command timeout and the test would fail.
			args := append([]string{"serve", "--data", data, "--listen", freeAddr(t)}, tt.args...)
			r := runLanyard(t, nil, args...)
			if r.code != 1 {
				t.Errorf("exit code %d, want 1; stderr:\n%s", r.code, r.stderr)
			}
			checkOneErrorLine(t, r.stderr, tt.want)
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}

	t.Run("precedence", func(t *testing.T) {
		in := newInstance(t, "sqlite")
		addrs := distinctAddrs(t, 3)
		fileAddr, envAddr, flagAddr := addrs[0], addrs[1], addrs[2]
		conf := writeFile(t, t.TempDir(), "lanyard.conf", "# Where to listen.\nlisten = "+fileAddr+"\n")
		cases := []struct {
			name string
			env  []string
			args []string
			want string
		}{
			{"flag over environment and file", []string{"LANYARD_LISTEN=" + envAddr}, []string{"--listen", flagAddr}, flagAddr},
			{"environment over file", []string{"LANYARD_LISTEN=" + envAddr}, nil, envAddr},
			{"file alone", nil, nil, fileAddr},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				args := append([]string{"serve", "--data", in.data, "--config", conf}, c.args...)
				s := startProcess(t, "serve ("+c.name+")", c.want, childEnv(c.env...), args...)
				// Wait for serve to listen on any of the three addresses,
				// so that a wrong choice fails at once.
				var got []string
				waitFor(readyTimeout, func() bool {
					got = listening(addrs)
					return len(got) > 0 || s.exited()
				})
				if len(got) != 1 || got[0] != c.want {
					t.Fatalf("serve listens on %v, want only %s", got, c.want)
				}
				s.waitReady()
				s.stopOK()
			})
		}
	})
}

// listening returns the addresses of addrs that accept connections.
func listening(addrs []string) []string {
	var open []string
	for _, a := range addrs {
		if conn, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			conn.Close()
			open = append(open, a)
		}
	}
	return open
}

// distinctAddrs returns n free loopback addresses with different ports.
func distinctAddrs(t *testing.T, n int) []string {
	t.Helper()
	seen := map[string]bool{}
	var addrs []string
	for len(addrs) < n {
		a := freeAddr(t)
		if !seen[a] {
			seen[a] = true
			addrs = append(addrs, a)
		}
	}
	return addrs
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
