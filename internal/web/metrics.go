package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	logins   *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lanyard_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lanyard_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lanyard_logins_total", Help: "Login attempts by result.",
		}, []string{"result"}),
	}
	reg.MustRegister(m.requests, m.duration, m.logins)
	// Registering twice (two servers on one registry) is harmless.
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// MetricsHandler serves the metrics of s.Registry to anyone: for a
// listener of its own (--metrics-listen) on an address only the scraper
// reaches.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})
}

// metricsHandler serves /metrics on the portal's own address, which the
// whole world may reach: only to a scraper with the bearer token of
// MetricsToken, or to a logged-in administrator. The metrics tell how
// many users and mobile IDs there are and how logins fare, which is no
// one else's business.
func (s *Server) metricsHandler() http.Handler {
	h := s.MetricsHandler()
	var want [32]byte
	if s.MetricsToken != "" {
		want = sha256.Sum256([]byte(s.MetricsToken))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.MetricsToken != "" {
			// Hashes of equal length are compared, so the time taken
			// tells nothing of the token's length or content.
			got := sha256.Sum256([]byte(token))
			if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
				h.ServeHTTP(w, r)
				return
			}
		}
		if u := currentUser(r); u != nil && u.HasRole(lanyard.RoleAdmin) && !u.MustChangePassword {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="lanyard metrics"`)
		http.Error(w, "The metrics need the bearer token of --metrics-token-file or an administrator's session.", http.StatusUnauthorized)
	})
}

// statusWriter remembers the status code a handler wrote, and the route
// pattern the mux found for the request.
type statusWriter struct {
	http.ResponseWriter
	code int
	// route is the pattern the mux found, once routed has served the
	// request (routed).
	route  string
	routed bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// routed serves a request with mux and tells observe the pattern it
// found, which the mux sets on the request it is given: the handlers in
// between pass on copies of observe's. It tells it also when the handler
// panics.
func routed(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sw, ok := w.(*statusWriter); ok {
			defer func() { sw.route, sw.routed = r.Pattern, true }()
		}
		mux.ServeHTTP(w, r)
	})
}

// observe counts and times every request by its route pattern (not its
// path, which would let clients create unbounded label values) and logs it.
// The pattern is the one routed saw; a request that did not get there
// (one a middleware answered) is looked up in mux.
func (s *Server) observe(mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		// The CA's endpoints are one route, found without the mux: OCSP
		// answers are the most frequent requests and the cheapest.
		route := sw.route
		switch {
		case s.PKI != nil && strings.HasPrefix(r.URL.Path, "/pki/"):
			route = "/pki/"
		case !sw.routed:
			_, route = mux.Handler(r)
		}
		if route == "" || route == "/" {
			route = "unmatched"
		}
		d := time.Since(start)
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())
		// Checked first, so that a server not logging requests does not
		// make their attributes.
		if s.Logger.Enabled(r.Context(), slog.LevelDebug) {
			s.Logger.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.code, "duration", d, "addr", clientAddr(r))
		}
	})
}
