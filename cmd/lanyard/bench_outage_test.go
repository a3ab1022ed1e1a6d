package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/loadgen"
)

// TestBenchWaitsOutAnOutage puts a proxy before the server that answers
// every request with 503 for a second, as a server whose database
// restarts does: the workers report the failures, wait, and make mobile
// IDs again afterwards instead of giving up.
func TestBenchWaitsOutAnOutage(t *testing.T) {
	target, pwFile := startServer(t, "sqlite", 2)
	u, _ := url.Parse(target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	var down, after atomic.Bool
	var enrolledAfter atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "The service is unavailable; try again shortly.", http.StatusServiceUnavailable)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		proxy.ServeHTTP(sw, r)
		if after.Load() && r.URL.Path == "/app/v1/enroll" && sw.status < 300 {
			enrolledAfter.Add(1)
		}
	}))
	defer front.Close()
	pw, _ := os.ReadFile(pwFile)
	d, err := loadgen.New(t.Context(), loadgen.Config{
		URL: front.URL, UserPrefix: "benchuser", Users: 2, Password: strings.TrimSpace(string(pw)),
		Concurrency: 2, Duration: 4 * time.Second, GiveUpAfter: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(time.Second)
		down.Store(true)
		time.Sleep(time.Second)
		down.Store(false)
		after.Store(true)
	}()
	r := d.Run(t.Context())
	if !after.Load() {
		t.Fatal("the run ended before the outage did")
	}
	if r.GaveUp != 0 || r.ErrorCount() == 0 || r.LongestFailing < 500*time.Millisecond {
		t.Fatalf("gave up %d, %d errors, failing at most %s", r.GaveUp, r.ErrorCount(), r.LongestFailing)
	}
	var out strings.Builder
	printBenchResult(&out, r)
	for _, want := range []string{"503", "failing:    at most "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
	if enrolledAfter.Load() == 0 {
		t.Fatalf("no mobile ID was made after the outage (%d in all)", r.MobileIDs())
	}
}

// statusWriter remembers the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
