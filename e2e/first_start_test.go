package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestFirstStart starts a fresh installation twice on each engine: the
// first start creates the administrator and prints its password once, the
// second prints nothing, and the operational endpoints answer.
func TestFirstStart(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			in := newInstance(t, engine)
			start := time.Now()
			metricsAddr := freeAddr(t)
			first := startServer(t, in, "--metrics-listen", metricsAddr)
			first.waitReady()
			t.Logf("%s ready after %s", engine, time.Since(start).Round(time.Millisecond))

			for _, path := range []string{"/healthz", "/readyz"} {
				if r := fetch(t, nil, first.url+path, nil); r.status != http.StatusOK {
					t.Errorf("GET %s: status %d, want 200; body %q", path, r.status, r.body)
				}
			}
			// The metrics are not public on the portal's address, and
			// open on the metrics listener.
			if r := fetch(t, nil, first.url+"/metrics", nil); r.status != http.StatusUnauthorized {
				t.Errorf("GET /metrics without a token: status %d, want 401", r.status)
			}
			metrics := fetch(t, nil, "http://"+metricsAddr+"/metrics", nil)
			if metrics.status != http.StatusOK {
				t.Errorf("GET /metrics on --metrics-listen: status %d, want 200", metrics.status)
			}
			if !hasMetric(metrics.body, "lanyard_http_requests_total", `route="GET /healthz"`) {
				t.Errorf("GET /metrics has no lanyard_http_requests_total sample for GET /healthz:\n%s", metrics.body)
			}

			// The password is read once the process has exited, when its
			// output is complete.
			first.stopOK()
			pw := adminPassword(t, first.stdout.String())
			if strings.Contains(first.stderr.String(), pw) {
				t.Errorf("the log (stderr) holds the initial admin password")
			}

			second := startServer(t, in)
			second.waitReady()
			// The administrator of the first start is kept, with the
			// password printed then, which is still one-time.
			r := login(t, nil, second.url, "admin", pw)
			if r.status != http.StatusSeeOther || r.location() != "/password" {
				t.Errorf("log in as admin with the printed password after a restart: status %d, Location %q; want 303 to /password",
					r.status, r.header.Get("Location"))
			}
			second.stopOK()
			if out := second.stdout.String(); out != "" {
				t.Errorf("the second start printed %q on stdout, want nothing", out)
			}
		})
	}

	// An operator may load users with the CLI before serve ever ran. The
	// first start must still create the administrator, or the installation
	// has no one who can open Admin.
	t.Run("users added before the first start", func(t *testing.T) {
		in := newInstance(t, "sqlite")
		addUser(t, in, "alice", "alice-"+randomText())
		s := startServer(t, in)
		s.waitReady()
		r := login(t, nil, s.url, "admin", "no-password-yet")
		s.stopOK()
		if lines := adminPasswordLines(s.stdout.String()); len(lines) != 1 {
			list := mustLanyard(t, append([]string{"user", "list"}, in.args()...)...)
			t.Fatalf("the first start after `lanyard user add alice` printed %d admin password lines, want 1: "+
				"without it no administrator exists (login as admin: status %d)\nusers:\n%s", len(lines), r.status, list.stdout)
		}
		pw := adminPassword(t, s.stdout.String())
		s = startServer(t, in)
		s.waitReady()
		if r := login(t, nil, s.url, "admin", pw); r.status != http.StatusSeeOther || r.location() != "/password" {
			t.Errorf("log in as admin with the printed password: status %d, Location %q; want 303 to /password", r.status, r.header.Get("Location"))
		}
	})
}

// hasMetric reports whether the Prometheus text has a sample of name
// whose labels contain label.
func hasMetric(text, name, label string) bool {
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, name+"{") && strings.Contains(line, label) {
			return true
		}
	}
	return false
}
