package options_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/options"
)

// deptScript reads an attribute only some users have.
const deptScript = `# Get mobile ID with a server name per department
issue_encryption_certificate = False
issue_signature_certificate = True
issue_authentication_certificate = True
user_may_choose_certificates = False
show_qr_code = True
validity_years = 2
encryption_recovery = "automatic"
recover_latest = 3
notify_user = True

def user_properties(user):
    return {
        "user_id": user.email,
        "server_name": "Smart ID " + user.attributes["dept"],
        "profile_name": "MobileID " + user.common_name,
    }
`

func TestUserDependentFailure(t *testing.T) {
	e := options.New(options.Config{})
	bob := options.User{Username: "bob", Email: "bob@example.com", CommonName: "Bob Example",
		Attributes: map[string]string{"dept": "Sales"}}
	t.Run("user with the attribute", func(t *testing.T) {
		m, err := e.DryRun(options.MobileIDSelfServiceProcGet, deptScript, bob)
		if err != nil {
			t.Fatal(err)
		}
		if m["server_name"] != "Smart ID Sales" {
			t.Errorf("server_name %v, want Smart ID Sales", m["server_name"])
		}
	})
	t.Run("user without it", func(t *testing.T) {
		_, err := e.DryRun(options.MobileIDSelfServiceProcGet, deptScript, alice)
		mustInvalid(t, err, `line 15, column 53: in user_properties: key "dept" not in user.attributes (for user "alice")`)
	})
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name string
		cfg  options.Config
		body string // replaces "validity_years = 2"
		want string
	}{
		{"huge loop", options.Config{}, "for _i in range(1000000000):\n    pass\nvalidity_years = 2",
			"line 7, column 1: the script exceeded its step limit of 1000000 steps"},
		{"while loop", options.Config{MaxSteps: 5000}, "def _spin():\n    while True:\n        pass\n_spin()\nvalidity_years = 2",
			"in _spin: the script exceeded its step limit of 5000 steps"},
		{"endless recursion", options.Config{MaxSteps: 5000}, "def _f(n):\n    return _f(n + 1)\nvalidity_years = _f(0)",
			"the script exceeded its step limit of 5000 steps"},
		{"time limit", options.Config{MaxSteps: 1 << 62, Timeout: 50 * time.Millisecond}, "for _i in range(1 << 40):\n    pass\nvalidity_years = 2",
			"the script exceeded its time limit of 50ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := options.New(tt.cfg)
			src := replace(t, options.DefaultGetScript, "validity_years = 2", tt.body)
			start := time.Now()
			err := e.Validate(options.MobileIDSelfServiceProcGet, src, alice)
			mustInvalid(t, err, tt.want, `(for user "alice")`)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the limit took %s to stop the script", d)
			}
		})
	}
	t.Run("limit in user_properties", func(t *testing.T) {
		e := options.New(options.Config{MaxSteps: 10000})
		src := replace(t, options.DefaultGetScript, `"Smart ID"`, `str(len([i for i in range(100000)]))`)
		_, err := e.MobileID(options.MobileIDSelfServiceProcGet, src, alice)
		mustInvalid(t, err, "in user_properties: the script exceeded its step limit of 10000 steps")
	})
}

func TestUserIsReadOnly(t *testing.T) {
	bob := options.User{Username: "bob", Email: "bob@example.com", CommonName: "Bob", Attributes: map[string]string{"dept": "Sales"}}
	tests := []struct {
		name string
		stmt string
		want string
	}{
		{"assign a field", `user.email = "x@example.com"`, "line 8, column 5: user is read-only: cannot assign user.email"},
		{"assign an attribute", `user.attributes["dept"] = "IT"`, `user.attributes is read-only: cannot assign user.attributes["dept"]`},
		{"update attributes", `user.attributes.update(dept = "IT")`, "user.attributes is read-only: cannot call user.attributes.update"},
		{"pop an attribute", `user.attributes.pop("dept")`, "user.attributes is read-only: cannot call user.attributes.pop"},
		{"unknown field", `_x = user.mail`, "user has no .mail field or method (did you mean .email?)"},
		{"assign in user_properties", "", "in user_properties: user is read-only: cannot assign user.common_name"},
	}
	e := options.New(options.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := options.DefaultGetScript
			if tt.stmt != "" {
				src = replace(t, src, "validity_years = 2", "validity_years = 2\n"+tt.stmt)
			} else {
				src = replace(t, src, "    return {", "    user.common_name = \"x\"\n    return {")
			}
			_, err := e.DryRun(options.MobileIDSelfServiceProcGet, src, bob)
			mustInvalid(t, err, tt.want)
		})
	}
	t.Run("reading attributes", func(t *testing.T) {
		src := replace(t, options.DefaultGetScript, `"Smart ID"`,
			`",".join([k + "=" + v for k, v in user.attributes.items()]) + str(len(user.attributes)) + str("dept" in user.attributes)`)
		m, err := e.MobileID(options.MobileIDSelfServiceProcGet, src, bob)
		if err != nil {
			t.Fatal(err)
		}
		if want := "dept=Sales1True"; m.ServerName != want {
			t.Errorf("server_name %q, want %q", m.ServerName, want)
		}
	})
}

func TestPrint(t *testing.T) {
	var mu sync.Mutex
	var got []string
	e := options.New(options.Config{Print: func(process, msg string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, process+": "+msg)
	}})
	src := replace(t, options.DefaultGetScript, "validity_years = 2", `validity_years = 2`+"\nprint(\"user\", user.username)")
	if err := e.Validate(options.MobileIDSelfServiceProcGet, src, alice); err != nil {
		t.Fatal(err)
	}
	if want := "MobileIDSelfServiceProcGet: user alice"; len(got) != 1 || got[0] != want {
		t.Errorf("printed %q, want %q", got, want)
	}
}

// TestConcurrent runs one cached script for many users at once, as the
// server does on busy days; run it with -race.
func TestConcurrent(t *testing.T) {
	e := options.New(options.Config{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			u := options.User{Username: "u", Email: strings.Repeat("x", i+1) + "@example.com", CommonName: "U"}
			for range 20 {
				m, err := e.MobileID(options.MobileIDSelfServiceProcGet, options.DefaultGetScript, u)
				if err != nil || m.UserID != u.Email {
					t.Errorf("got %+v, %v", m, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestManyScripts evaluates more distinct scripts than the engine keeps
// compiled, so that each is evaluated again after being dropped.
func TestManyScripts(t *testing.T) {
	e := options.New(options.Config{})
	for round := range 2 {
		for i := range 100 {
			years := i%10 + 1
			src := replace(t, options.DefaultGetScript, "validity_years = 2",
				"validity_years = "+strconv.Itoa(years)+" # variant "+strconv.Itoa(i))
			m, err := e.MobileID(options.MobileIDSelfServiceProcGet, src, alice)
			if err != nil || m.ValidityYears != years {
				t.Fatalf("round %d, script %d: got %d, %v; want %d", round, i, m.ValidityYears, err, years)
			}
		}
	}
}

func TestEmptyScript(t *testing.T) {
	e := options.New(options.Config{})
	mustInvalid(t, e.Validate(options.MobileIDSelfServiceProcGet, "", options.User{}),
		"issue_encryption_certificate is missing: every option must be set")
	mustInvalid(t, e.Validate(options.MobileIDSelfServiceProcGet, "validity_years = 1 <<< 2", options.User{}),
		"line 1, column 22: syntax error")
}

// TestSampleUser checks that validating with no user runs the script for
// the sample user.
func TestSampleUser(t *testing.T) {
	e := options.New(options.Config{})
	src := replace(t, options.DefaultGetScript, "validity_years = 2", "validity_years = len(user.username) * 10")
	mustInvalid(t, e.Validate(options.MobileIDSelfServiceProcGet, src, options.User{}),
		`validity_years must be between 1 and 10, got 50 (for user "alice")`)
}

// TestMobileIDKeptPerScriptAndUser: the options kept for a user are those
// of the same script and the same user in every field a script reads; any
// other change evaluates again.
func TestMobileIDKeptPerScriptAndUser(t *testing.T) {
	e := options.New(options.Config{})
	sales := options.User{Username: "bob", Email: "bob@example.com", CommonName: "Bob Example",
		Attributes: map[string]string{"dept": "Sales"}}
	mustGet := func(t *testing.T, src string, u options.User) options.MobileID {
		t.Helper()
		o, err := e.MobileID(options.MobileIDSelfServiceProcGet, src, u)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	first := mustGet(t, deptScript, sales)
	if again := mustGet(t, deptScript, sales); again != first {
		t.Fatalf("the same script and user gave %+v, then %+v", first, again)
	}
	changed := func(f func(*options.User)) options.User {
		u := sales
		u.Attributes = map[string]string{"dept": "Sales"}
		f(&u)
		return u
	}
	tests := []struct {
		name   string
		src    string
		u      options.User
		check  func(options.MobileID) bool
		expect string
	}{
		{"another attribute value", deptScript, changed(func(u *options.User) { u.Attributes["dept"] = "Support" }),
			func(o options.MobileID) bool { return o.ServerName == "Smart ID Support" }, "server name Smart ID Support"},
		{"another email", deptScript, changed(func(u *options.User) { u.Email = "robert@example.com" }),
			func(o options.MobileID) bool { return o.UserID == "robert@example.com" }, "user ID robert@example.com"},
		{"another common name", deptScript, changed(func(u *options.User) { u.CommonName = "Robert Example" }),
			func(o options.MobileID) bool { return o.ProfileName == "MobileID Robert Example" }, "profile MobileID Robert Example"},
		{"fields that run together", deptScript, changed(func(u *options.User) { u.Email, u.CommonName = "bob@example.comBob", " Example" }),
			func(o options.MobileID) bool { return o.UserID == "bob@example.comBob" }, "user ID bob@example.comBob"},
		{"another script", strings.Replace(deptScript, "validity_years = 2", "validity_years = 3", 1), sales,
			func(o options.MobileID) bool { return o.ValidityYears == 3 }, "validity 3 years"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if o := mustGet(t, tt.src, tt.u); !tt.check(o) {
				t.Errorf("got %+v, want %s", o, tt.expect)
			}
		})
	}
}

// TestMobileIDPrintsEachTime: with a Print function, a script runs at
// every evaluation, so that it prints every time.
func TestMobileIDPrintsEachTime(t *testing.T) {
	var mu sync.Mutex
	printed := 0
	e := options.New(options.Config{Print: func(string, string) { mu.Lock(); printed++; mu.Unlock() }})
	src := strings.Replace(options.DefaultGetScript, "validity_years = 2", "validity_years = 2\nprint(\"hello\")", 1)
	for range 2 {
		if _, err := e.MobileID(options.MobileIDSelfServiceProcGet, src, alice); err != nil {
			t.Fatal(err)
		}
	}
	if printed != 2 {
		t.Errorf("printed %d times, want 2", printed)
	}
}
