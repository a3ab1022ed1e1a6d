package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/internal/options"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

func TestOptionsCommands(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			c := newCLI(t, engine)
			c.ok("", "user", "add", "alice", "--email", "alice@example.com", "--name", "Alice Example", "--attr", "dept=R&D")
			c.ok("", "user", "add", "bob", "--email", "bob@other.org", "--name", "Bob Example")

			// A fresh install gives the seed's defaults.
			var got map[string]any
			if err := json.Unmarshal([]byte(c.ok("", "options", "test", "MobileIDSelfServiceProcGet", "--user", "alice", "--json")), &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"issue_encryption_certificate": false, "issue_signature_certificate": true, "issue_authentication_certificate": true,
				"user_may_choose_certificates": false, "show_qr_code": true, "validity_years": 2.0,
				"encryption_recovery": "automatic", "recover_latest": 3.0, "notify_user": true,
				"user_id": "alice@example.com", "server_name": "Smart ID", "profile_name": "MobileID Alice Example",
			}
			if len(got) != len(want) {
				t.Fatalf("options test printed %d keys: %v", len(got), got)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
			if out := c.ok("", "options", "show", "MobileIDSelfServiceProcGet"); out != options.DefaultGetScript {
				t.Fatalf("show printed\n%s", out)
			}
			if out := c.ok("", "options", "show"); !strings.Contains(out, "MobileIDExpiring") {
				t.Fatalf("show lists %q", out)
			}

			edited := strings.Replace(options.DefaultGetScript, "show_qr_code = True", "show_qr_code = False", 1)
			if out := c.ok("", "options", "set", "MobileIDSelfServiceProcGet", writeFile(t, "get.star", edited)); !strings.Contains(out, "version 2") {
				t.Fatalf("set: %q", out)
			}
			if out := c.ok("", "options", "test", "MobileIDSelfServiceProcGet", "--user", "bob"); !strings.Contains(out, "show_qr_code = false") {
				t.Fatalf("test after set: %q", out)
			}
			if out := c.ok("", "options", "show", "MobileIDSelfServiceProcGet", "--version", "1"); out != options.DefaultGetScript {
				t.Fatal("version 1 changed")
			}

			typo := strings.Replace(options.DefaultGetScript, "show_qr_code = True", "show_qr_cod = True", 1)
			c.fails(1, "did you mean show_qr_code?", "options", "set", "MobileIDSelfServiceProcGet", writeFile(t, "typo.star", typo))
			c.fails(1, "line 1", "options", "set", "MobileIDSelfServiceProcGet", writeFile(t, "syntax.star", "validity_years = = 2\n"))
			c.fails(1, "validity_years", "options", "set", "MobileIDSelfServiceProcGet",
				writeFile(t, "range.star", strings.Replace(options.DefaultGetScript, "validity_years = 2", "validity_years = 11", 1)))
			c.fails(1, "There is no process", "options", "show", "NoSuchProcess")
			c.fails(1, "unchanged", "options", "set", "MobileIDSelfServiceProcGet", writeFile(t, "same.star", edited))
			c.fails(2, "--user is required", "options", "test", "MobileIDSelfServiceProcGet")
			c.fails(1, "No such user", "options", "test", "MobileIDSelfServiceProcGet", "--user", "nobody")

			// A script that fails only for some users: saved with a warning
			// for the dry-run user, and the process fails for that user.
			dept := strings.Replace(options.DefaultGetScript, `"server_name": "Smart ID",`, `"server_name": {"example.com": "Smart ID"}[user.email.split("@")[1]],`, 1)
			code, out, errOut := c.run("", "options", "set", "MobileIDSelfServiceProcGet", writeFile(t, "dept.star", dept), "--user", "bob")
			if code != 0 || !strings.Contains(errOut, "warning") || !strings.Contains(errOut, "bob") || !strings.Contains(out, "version 3") {
				t.Fatalf("set with failing dry run: %d %q %q", code, out, errOut)
			}
			if out := c.ok("", "options", "test", "MobileIDSelfServiceProcGet", "--user", "alice"); !strings.Contains(out, `server_name = "Smart ID"`) {
				t.Fatalf("alice: %q", out)
			}
			c.fails(1, "other.org", "options", "test", "MobileIDSelfServiceProcGet", "--user", "bob")
		})
	}
}
