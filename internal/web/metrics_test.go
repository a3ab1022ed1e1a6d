package web_test

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/web"
)

// metricsToken is the bearer token of /metrics on every test portal.
const metricsToken = "scraper-token"

// metrics returns the body of /metrics, fetched as a scraper with the token.
func (p *portal) metrics(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+metricsToken)
	resp, body := do(t, p.browser(t), req)
	wantStatus(t, resp, body, http.StatusOK)
	return body
}

func TestMetricsAndHealth(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "alice", lanyard.UserActive)
	ac := p.loggedIn(t, "alice")
	_, link := p.startGet(t, ac, nil)
	if err := newPhone(t).enroll(t, link); err != nil {
		t.Fatal(err)
	}
	c := p.browser(t)
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		resp, body := p.get(t, c, path)
		wantStatus(t, resp, body, http.StatusOK, want)
	}
	resp, body := p.get(t, c, "/no/such/page")
	wantStatus(t, resp, body, http.StatusNotFound)
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer scraper-token")
	resp, body = do(t, c, req)
	// Requests count by the route the mux found, a page that is none as
	// unmatched.
	wantStatus(t, resp, body, http.StatusOK,
		`lanyard_http_requests_total{code="200",route="GET /mobile-id/get"} 1`,
		`lanyard_http_requests_total{code="303",route="POST /mobile-id/get"} 1`,
		`lanyard_http_requests_total{code="200",route="GET /healthz"} 1`,
		`lanyard_http_requests_total{code="404",route="unmatched"} 1`,
		`lanyard_logins_total{result="ok"} 1`,
		`lanyard_mobile_ids{state="active"} 1`,
		`lanyard_outbox_pending 1`, // the "created" notification
		`lanyard_database_stats_up 1`,
		`lanyard_enrollments_total{result="ok"} 1`,
		`go_goroutines`)
}

// TestMetricsNotPublic checks who sees /metrics on the portal's address:
// a scraper with the bearer token and a logged-in administrator, nobody
// else.
func TestMetricsNotPublic(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "alice", lanyard.UserActive)
	p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	withToken := func(token string) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, p.URL+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req
	}
	cases := []struct {
		name   string
		client *http.Client
		token  string
		status int
	}{
		{"anonymous", p.browser(t), "", http.StatusUnauthorized},
		{"wrong token", p.browser(t), "scraper-tokem", http.StatusUnauthorized},
		{"empty token", p.browser(t), " ", http.StatusUnauthorized},
		{"user", p.loggedIn(t, "alice"), "", http.StatusUnauthorized},
		{"token", p.browser(t), "scraper-token", http.StatusOK},
		{"administrator", p.loggedIn(t, "root"), "", http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.client, withToken(tc.token))
			wantStatus(t, resp, body, tc.status)
			if tc.status == http.StatusOK && !strings.Contains(body, "lanyard_http_requests_total") {
				t.Fatalf("no metrics in:\n%s", body)
			}
			if tc.status != http.StatusOK && strings.Contains(body, "lanyard_") {
				t.Fatalf("a refused request got metrics:\n%s", body)
			}
		})
	}
	t.Run("no token configured", func(t *testing.T) {
		bare := newPortal(t, sqliteDSN(t), func(s *web.Server) { s.MetricsToken = "" })
		for _, auth := range []string{"", "Bearer ", "Bearer scraper-token"} {
			req, _ := http.NewRequest(http.MethodGet, bare.URL+"/metrics", nil)
			req.Header.Set("Authorization", auth)
			resp, body := do(t, bare.browser(t), req)
			wantStatus(t, resp, body, http.StatusUnauthorized)
		}
	})
}

// TestMetricsRouteOfPanic: a request whose handler panics counts as a 500
// of its route, which the mux found before the handler ran.
func TestMetricsRouteOfPanic(t *testing.T) {
	p := newPortal(t, sqliteDSN(t), func(s *web.Server) {
		mount := s.Mount
		s.Mount = func(mux *http.ServeMux) {
			mount(mux)
			mux.HandleFunc("GET /test/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
		}
	})
	resp, body := p.get(t, p.browser(t), "/test/panic")
	wantStatus(t, resp, body, http.StatusInternalServerError)
	if m := p.metrics(t); !strings.Contains(m, `lanyard_http_requests_total{code="500",route="GET /test/panic"} 1`) {
		t.Errorf("no 500 of the route GET /test/panic in the metrics:\n%s", m)
	}
}

// TestRequestLog: requests are logged at the debug level, and only there.
func TestRequestLog(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		t.Run(level.String(), func(t *testing.T) {
			var log strings.Builder
			var mu sync.Mutex
			p := newPortal(t, sqliteDSN(t), func(s *web.Server) {
				s.Logger = slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
					mu.Lock()
					defer mu.Unlock()
					return log.Write(b)
				}), &slog.HandlerOptions{Level: level}))
			})
			resp, body := p.get(t, p.browser(t), "/healthz")
			wantStatus(t, resp, body, http.StatusOK)
			mu.Lock()
			logged := strings.Contains(log.String(), "msg=request method=GET path=/healthz status=200")
			mu.Unlock()
			if want := level == slog.LevelDebug; logged != want {
				t.Errorf("request logged %t at level %s, want %t", logged, level, want)
			}
		})
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
