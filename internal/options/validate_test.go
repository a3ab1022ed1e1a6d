package options_test

import (
	"testing"

	"github.com/lanyard-id/lanyard/internal/options"
)

// TestValidateRefuses edits the default scripts into each kind of mistake
// an administrator may make and checks the message it gets.
func TestValidateRefuses(t *testing.T) {
	get, exp := options.DefaultGetScript, options.DefaultExpiringScript
	tests := []struct {
		name    string
		process string
		old     string // replaced in the default script by new
		new     string
		want    []string
	}{
		{"syntax error", "", "validity_years = 2", "validity_years = = 2", []string{"line 7, column 18", "syntax error"}},
		{"unclosed bracket", "", `"Smart ID",`, `["Smart ID",`, []string{"line 1", "syntax error"}},
		{"undefined name", "", "validity_years = 2", "validity_years = two", []string{"line 7, column 18", "undefined: two"}},
		{"misspelt option", "", "show_qr_code = True", "show_qr_cod = True", []string{"line 6, column 1", "unknown name show_qr_cod", "did you mean show_qr_code?"}},
		{"unknown name", "", "notify_user = True", "notify_user = True\ncolour = 1", []string{"line 11, column 1", "unknown name colour", "must start with _"}},
		{"missing option", "", "recover_latest = 3\n", "", []string{"recover_latest is missing"}},
		{"assigns user", "", "notify_user = True", "notify_user = True\nuser = None", []string{"user is the user the script runs for"}},
		{"load", "", "validity_years = 2", `load("other.star", "x")` + "\nvalidity_years = 2", []string{"line 7, column 1", "load is not allowed"}},
		{"bool as string", "", "show_qr_code = True", `show_qr_code = "yes"`, []string{"line 6, column 1", "show_qr_code must be a bool (True or False), got string"}},
		{"int as string", "", "validity_years = 2", `validity_years = "2"`, []string{"line 7, column 1", "validity_years must be an int, got string"}},
		{"int as float", "", "validity_years = 2", `validity_years = 2.0`, []string{"validity_years must be an int, got float"}},
		{"validity too long", "", "validity_years = 2", "validity_years = 11", []string{"line 7, column 1", "validity_years must be between 1 and 10, got 11"}},
		{"validity zero", "", "validity_years = 2", "validity_years = 0", []string{"validity_years must be between 1 and 10, got 0"}},
		{"validity huge", "", "validity_years = 2", "validity_years = 1 << 80", []string{"validity_years must be between 1 and 10"}},
		{"recover negative", "", "recover_latest = 3", "recover_latest = -1", []string{"recover_latest must be between 0 and 50, got -1"}},
		{"recover too many", "", "recover_latest = 3", "recover_latest = 51", []string{"recover_latest must be between 0 and 50, got 51"}},
		{"recovery unknown", "", `"automatic"  `, `"automatc"  `, []string{"line 8, column 1", `encryption_recovery must be "automatic" or "manual", got "automatc": did you mean automatic?`}},
		{"recovery not a string", "", `"automatic"  `, `True  `, []string{"encryption_recovery must be a string, got bool"}},
		{"no certificate", "", "issue_signature_certificate = True\nissue_authentication_certificate = True",
			"issue_signature_certificate = False\nissue_authentication_certificate = False", []string{"at least one of"}},
		{"set only in a branch", "", "notify_user = True", "if user.attributes:\n    notify_user = True", []string{"notify_user was not set when the script ran"}},
		{"no user_properties", "", "def user_properties(user):", "def user_propertie(user):", []string{"user_properties is missing", "is user_propertie meant to be user_properties?"}},
		{"user_properties not a function", "", "def user_properties(user):\n", "user_properties = 1\ndef _unused(user):\n", []string{"user_properties must be a function, got int"}},
		{"user_properties without parameter", "", "def user_properties(user):", "def user_properties():", []string{"line 12, column 5", "user_properties must take exactly one parameter"}},
		{"user_properties with two parameters", "", "def user_properties(user):", "def user_properties(user, other):", []string{"exactly one parameter"}},
		{"user_properties with varargs", "", "def user_properties(user):", "def user_properties(*args):", []string{"exactly one parameter"}},
		{"user_properties returns a list", "", "    return {", "    return [1]\n    x = {", []string{"user_properties must return a dict, got list"}},
		{"user_properties misses a key", "", `        "server_name": "Smart ID",` + "\n", "", []string{"user_properties did not return server_name"}},
		{"user_properties misspells a key", "", `"server_name"`, `"server_nam"`, []string{`unknown key "server_nam" (did you mean server_name?)`}},
		{"user_properties extra key", "", `"server_name": "Smart ID",`, `"server_name": "Smart ID", "colour": "red",`, []string{`unknown key "colour"`}},
		{"user_properties int key", "", `"server_name": "Smart ID",`, `"server_name": "Smart ID", 1: "red",`, []string{"a key of type int"}},
		{"user_properties empty value", "", `"Smart ID"`, `""`, []string{`server_name from user_properties must not be empty, got ""`}},
		{"user_properties int value", "", `"Smart ID"`, `42`, []string{"user_properties must return server_name as a string, got int"}},
		{"user_properties control character", "", `"Smart ID"`, `"Smart\nID"`, []string{"server_name from user_properties must not contain control characters"}},
		{"user_properties too long", "", `"Smart ID"`, `"x" * 201`, []string{"server_name from user_properties must be at most 200 characters long"}},
		{"runtime error with line", "", `"Smart ID"`, `"Smart ID" + 1`, []string{`line 15, column 35: in user_properties: unknown binary op: string + int (for user "alice")`}},
		{"fail builtin", "", "validity_years = 2", `validity_years = 2` + "\nfail(\"not yet\")", []string{"line 8, column 5", "not yet"}},
		{"days as int", MobileIDExpiringName, "[60, 30, 14, 7]", "60", []string{"line 3, column 1", "email_before_expiring_days must be a list of ints, got int"}},
		{"day out of range", MobileIDExpiringName, "[60, 30, 14, 7]", "[400, 30]", []string{"email_before_expiring_days[0] must be between 1 and 365, got 400"}},
		{"day zero", MobileIDExpiringName, "[60, 30, 14, 7]", "[60, 0]", []string{"email_before_expiring_days[1] must be between 1 and 365, got 0"}},
		{"day as string", MobileIDExpiringName, "[60, 30, 14, 7]", `[60, "30"]`, []string{"email_before_expiring_days[1] must be an int, got string"}},
		{"day twice", MobileIDExpiringName, "[60, 30, 14, 7]", "[60, 30, 30]", []string{"email_before_expiring_days lists 30 twice"}},
		{"daily with no days", MobileIDExpiringName, "[60, 30, 14, 7]", "[]", []string{"email_each_day_after_last needs at least one day"}},
		{"expiring misspelt", MobileIDExpiringName, "email_each_day_after_last =", "email_each_day_afer_last =", []string{"did you mean email_each_day_after_last?"}},
		{"expiring user_properties", MobileIDExpiringName, "email_each_day_after_last = True", "email_each_day_after_last = True\nuser_properties = 1", []string{"unknown name user_properties"}},
	}
	e := options.New(options.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			process, script := options.MobileIDSelfServiceProcGet, get
			if tt.process != "" {
				process, script = tt.process, exp
			}
			err := e.Validate(process, replace(t, script, tt.old, tt.new), alice)
			mustInvalid(t, err, tt.want...)
			t.Log(err)
		})
	}
}

// MobileIDExpiringName keeps the table above one line a case.
const MobileIDExpiringName = options.MobileIDExpiring

// TestValidateAccepts checks edits an administrator may rightly make.
func TestValidateAccepts(t *testing.T) {
	get := options.DefaultGetScript
	tests := []struct {
		name     string
		old, new string
	}{
		{"private helper", "validity_years = 2", "_years = 2\nvalidity_years = _years"},
		{"helper function", "validity_years = 2", "def years(n):\n    return n\nvalidity_years = years(2)"},
		{"top-level if on the user", "show_qr_code = True", "if user.attributes.get(\"dept\") == \"field\":\n    show_qr_code = False\nelse:\n    show_qr_code = True"},
		{"manual recovery", `"automatic"  `, `"manual"     `},
		{"only encryption", "issue_signature_certificate = True\nissue_authentication_certificate = True",
			"issue_signature_certificate = False\nissue_authentication_certificate = False\nissue_encryption_certificate = True"},
		{"print", "validity_years = 2", "validity_years = 2\nprint(\"hello\", user.username)"},
		{"attribute with default", `user.email`, `user.attributes.get("uid", user.username)`},
	}
	e := options.New(options.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.Validate(options.MobileIDSelfServiceProcGet, replace(t, get, tt.old, tt.new), alice); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("days in any order", func(t *testing.T) {
		src := replace(t, options.DefaultExpiringScript, "[60, 30, 14, 7]", "(7, 60, 14)")
		got, err := e.Expiring(src, alice)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{60, 14, 7}; !equal(got.EmailBeforeExpiringDays, want) {
			t.Errorf("days %v, want %v", got.EmailBeforeExpiringDays, want)
		}
	})
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestUnknownProcess(t *testing.T) {
	e := options.New(options.Config{})
	mustInvalid(t, e.Validate("MobileIDSelfServiceProcGt", options.DefaultGetScript, alice),
		`unknown process "MobileIDSelfServiceProcGt": did you mean MobileIDSelfServiceProcGet?`)
	_, err := options.DefaultScript("nope")
	mustInvalid(t, err, `unknown process "nope"`)
	_, err = e.MobileID(options.MobileIDExpiring, options.DefaultExpiringScript, alice)
	mustInvalid(t, err, "MobileIDExpiring has no mobile ID options")
}
