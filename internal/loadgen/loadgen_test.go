package loadgen_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/loadgen"
)

func TestValidate(t *testing.T) {
	ok := loadgen.Config{URL: "http://127.0.0.1:8080", UserPrefix: "benchuser", Users: 4, Password: "pw", Concurrency: 2, Duration: time.Second}
	for _, tc := range []struct {
		name string
		edit func(*loadgen.Config)
		want string // empty: valid
	}{
		{"valid", func(*loadgen.Config) {}, ""},
		{"localhost with a path", func(c *loadgen.Config) { c.URL = "http://localhost:8080/id/" }, ""},
		{"IPv6 loopback", func(c *loadgen.Config) { c.URL = "https://[::1]:8443" }, ""},
		{"another loopback address", func(c *loadgen.Config) { c.URL = "http://127.0.0.2" }, ""},
		{"remote allowed", func(c *loadgen.Config) { c.URL, c.AllowRemote = "https://id.example.com", true }, ""},
		{"remote", func(c *loadgen.Config) { c.URL = "https://id.example.com" }, "not a loopback address"},
		{"name that resolves anywhere", func(c *loadgen.Config) { c.URL = "http://localhost.example.com" }, "not a loopback address"},
		{"private address", func(c *loadgen.Config) { c.URL = "http://10.0.0.1" }, "not a loopback address"},
		{"no scheme", func(c *loadgen.Config) { c.URL = "127.0.0.1:8080" }, "want http://"},
		{"query", func(c *loadgen.Config) { c.URL = "http://127.0.0.1/?a=b" }, "want http://"},
		{"user in URL", func(c *loadgen.Config) { c.URL = "http://u:p@127.0.0.1" }, "want http://"},
		{"no URL", func(c *loadgen.Config) { c.URL = "" }, "--url is required"},
		{"fewer users than workers", func(c *loadgen.Config) { c.Users = 1 }, "must be at least --concurrency"},
		{"no workers", func(c *loadgen.Config) { c.Concurrency = 0 }, "--concurrency must be at least 1"},
		{"no duration", func(c *loadgen.Config) { c.Duration = 0 }, "--duration must be positive"},
		{"negative count", func(c *loadgen.Config) { c.Count = -1 }, "--count must not be negative"},
		{"no password", func(c *loadgen.Config) { c.Password = "" }, "password is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestResult(t *testing.T) {
	r := &loadgen.Result{
		Elapsed:  2 * time.Second,
		Errors:   map[string]int{"other": 1, "enroll: rate_limited": 2},
		Examples: map[string]string{"other": "x", "enroll: rate_limited": "enroll: rate_limited: too many attempts"},
	}
	for i := 1; i <= 100; i++ {
		r.Latencies = append(r.Latencies, time.Duration(i)*time.Millisecond)
	}
	if r.MobileIDs() != 100 || r.PerSecond() != 50 || r.ErrorCount() != 3 {
		t.Fatalf("%d mobile IDs, %.1f/s, %d errors", r.MobileIDs(), r.PerSecond(), r.ErrorCount())
	}
	for p, want := range map[float64]time.Duration{0: 1, 1: 1, 50: 50, 90: 90, 99: 99, 99.5: 100, 100: 100} {
		if got := r.Percentile(p); got != want*time.Millisecond {
			t.Errorf("p%v = %v, want %v", p, got, want*time.Millisecond)
		}
	}
	if kinds := strings.Join(r.ErrorKinds(), ","); kinds != "enroll: rate_limited,other" {
		t.Errorf("kinds %q", kinds)
	}
	if (&loadgen.Result{}).Percentile(50) != 0 || (&loadgen.Result{}).PerSecond() != 0 {
		t.Error("an empty result has latencies")
	}
}

// TestSignatureTime: the measure of the machine's speed is a real
// signature's time, and the report names both measurements.
func TestSignatureTime(t *testing.T) {
	d, err := loadgen.SignatureTime(20)
	if err != nil {
		t.Fatal(err)
	}
	if d <= 0 {
		t.Fatalf("a signature took %s", d)
	}
	line := loadgen.Speed{Before: 21500 * time.Nanosecond, After: 48 * time.Microsecond}.String()
	if !strings.Contains(line, "21.5 µs before the run and 48.0 µs after") {
		t.Fatalf("speed line %q", line)
	}
	if _, ok := (loadgen.Speed{Before: time.Microsecond}).Scaled(time.Millisecond); ok {
		t.Error("scaled without a sample taken during the run")
	}
}

// TestSpeedSampler: samples are taken during a run from its start, and a
// figure is scaled by the machine's speed during it.
func TestSpeedSampler(t *testing.T) {
	s, err := loadgen.StartSpeedSampler()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	during, n, err := s.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 || during <= 0 {
		t.Fatalf("%d samples, median %s", n, during)
	}
	speed := loadgen.Speed{Before: 40 * time.Microsecond, After: 44 * time.Microsecond, During: 2 * loadgen.QuietSignature, Samples: 5}
	if line := speed.String(); !strings.Contains(line, "40.0 µs before the run, 42.0 µs during it (median of 5 samples of 40) and 44.0 µs after") {
		t.Errorf("speed line %q", line)
	}
	if got, ok := speed.Scaled(3 * time.Millisecond); !ok || got != 1500*time.Microsecond {
		t.Errorf("3 ms at twice the quiet signature's time scaled to %s, %t", got, ok)
	}
}
