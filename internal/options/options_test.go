package options_test

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/options"
)

// alice is the sample user of the product description.
var alice = options.User{Username: "alice", Email: "alice@example.com", CommonName: "Alice Example"}

// mustInvalid fails unless err is an EINVALID error whose message
// contains every part of want.
func mustInvalid(tb testing.TB, err error, want ...string) {
	tb.Helper()
	var le *lanyard.Error
	if !errors.As(err, &le) || le.Code != lanyard.EINVALID {
		tb.Fatalf("got error %v, want an EINVALID *lanyard.Error", err)
	}
	for _, w := range want {
		if !strings.Contains(le.Message, w) {
			tb.Errorf("message %q does not contain %q", le.Message, w)
		}
	}
}

// replace returns the default script of process with old replaced by new,
// failing if old is not in it.
func replace(tb testing.TB, script, old, new string) string {
	tb.Helper()
	if !strings.Contains(script, old) {
		tb.Fatalf("script does not contain %q", old)
	}
	return strings.Replace(script, old, new, 1)
}

func TestDefaults(t *testing.T) {
	e := options.New(options.Config{})
	want := options.MobileID{
		IssueEncryption:     false,
		IssueSignature:      true,
		IssueAuthentication: true,
		UserMayChoose:       false,
		ShowQRCode:          true,
		ValidityYears:       2,
		EncryptionRecovery:  options.RecoveryAutomatic,
		RecoverLatest:       3,
		NotifyUser:          true,
		UserID:              "alice@example.com",
		ServerName:          "Smart ID",
		ProfileName:         "MobileID Alice Example",
	}
	t.Run("get", func(t *testing.T) {
		got, err := e.MobileID(options.MobileIDSelfServiceProcGet, options.DefaultGetScript, alice)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("supply", func(t *testing.T) {
		got, err := e.MobileID(options.MobileIDProcSupplyMobileIDForUser, options.DefaultSupplyScript, alice)
		if err != nil {
			t.Fatal(err)
		}
		w := want
		w.ShowQRCode = false // ignored there: the QR code always goes by email
		if got != w {
			t.Errorf("got %+v, want %+v", got, w)
		}
	})
	t.Run("expiring", func(t *testing.T) {
		got, err := e.Expiring(options.DefaultExpiringScript, alice)
		if err != nil {
			t.Fatal(err)
		}
		w := options.Expiring{EmailBeforeExpiringDays: []int{60, 30, 14, 7}, EmailEachDayAfterLast: true}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("got %+v, want %+v", got, w)
		}
	})
	t.Run("every process has a valid default", func(t *testing.T) {
		for _, p := range options.Processes() {
			src, err := options.DefaultScript(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Validate(p, src, options.User{}); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}
	})
}

func TestGetScriptIsTheSpecified(t *testing.T) {
	if !strings.HasPrefix(options.DefaultGetScript, "# Get mobile ID (MobileIDSelfServiceProcGet)\nissue_encryption_certificate = False\n") ||
		!strings.HasSuffix(options.DefaultGetScript, "        \"profile_name\": \"MobileID \" + user.common_name,\n    }\n") {
		t.Errorf("DefaultGetScript differs from the specified script:\n%s", options.DefaultGetScript)
	}
}

// TestMap checks that the flat map and the JSON encoding of each result
// agree, and that they hold every script name plus the user properties.
func TestMap(t *testing.T) {
	e := options.New(options.Config{})
	tests := []struct {
		name    string
		process string
		source  string
		keys    []string
	}{
		{"get", options.MobileIDSelfServiceProcGet, options.DefaultGetScript, []string{
			"encryption_recovery", "issue_authentication_certificate", "issue_encryption_certificate",
			"issue_signature_certificate", "notify_user", "profile_name", "recover_latest", "server_name",
			"show_qr_code", "user_id", "user_may_choose_certificates", "validity_years"}},
		{"expiring", options.MobileIDExpiring, options.DefaultExpiringScript, []string{
			"email_before_expiring_days", "email_each_day_after_last"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := e.DryRun(tt.process, tt.source, alice)
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, tt.keys) {
				t.Errorf("keys %v, want %v", got, tt.keys)
			}
			res, err := e.Evaluate(tt.process, tt.source, alice)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := roundTrip(t, res), roundTrip(t, m); !reflect.DeepEqual(a, b) {
				t.Errorf("JSON of the result %v differs from JSON of its map %v", a, b)
			}
		})
	}
}

// roundTrip encodes v as JSON and decodes it as a generic object.
func roundTrip(tb testing.TB, v any) map[string]any {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}
