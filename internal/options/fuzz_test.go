package options_test

import (
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/options"
)

// FuzzValidate feeds arbitrary scripts to every process: validation must
// never panic, and every refusal must be an EINVALID error.
func FuzzValidate(f *testing.F) {
	f.Add(options.DefaultGetScript)
	f.Add(options.DefaultSupplyScript)
	f.Add(options.DefaultExpiringScript)
	f.Add(deptScript)
	f.Add("load('x', 'y')\n")
	f.Add("def user_properties(user):\n    return user.attributes\n")
	f.Add("email_before_expiring_days = [1, 2]\nemail_each_day_after_last = False\n")
	f.Add("x = [1 for _ in range(10)]\nuser.email = 1\n")
	e := options.New(options.Config{MaxSteps: 20000, Timeout: 200 * time.Millisecond})
	u := options.User{Username: "alice", Email: "alice@example.com", CommonName: "Alice Example",
		Attributes: map[string]string{"dept": "Sales"}}
	f.Fuzz(func(t *testing.T, src string) {
		for _, p := range options.Processes() {
			if err := e.Validate(p, src, u); err != nil {
				mustInvalid(t, err)
			}
		}
	})
}

// BenchmarkEvaluate measures a process start: the default Get script,
// compiled once and cached, run for one user.
func BenchmarkEvaluate(b *testing.B) {
	e := options.New(options.Config{})
	for b.Loop() {
		if _, err := e.MobileID(options.MobileIDSelfServiceProcGet, options.DefaultGetScript, alice); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileAndEvaluate measures the first start after a script
// changed: compiling and checking it as well as running it.
func BenchmarkCompileAndEvaluate(b *testing.B) {
	for b.Loop() {
		e := options.New(options.Config{})
		if _, err := e.MobileID(options.MobileIDSelfServiceProcGet, options.DefaultGetScript, alice); err != nil {
			b.Fatal(err)
		}
	}
}
