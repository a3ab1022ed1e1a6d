package e2e_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// getProcess is the option script of the use case "Get mobile ID".
const getProcess = "MobileIDSelfServiceProcGet"

// TestBrowserEditOptions is an administrator editing the options of "Get
// mobile ID" in Admin: a misspelt option is refused with a suggestion, a
// dry run shows what a user gets, a save makes version 2 and a restore
// version 3, the CLI sees each change in the shared database, and the
// audit log holds both saves with their diffs.
func TestBrowserEditOptions(t *testing.T) {
	in := newInstance(t, "sqlite")
	s := startServer(t, in)
	s.waitReady()
	addUser(t, in, "alice", "alice-"+randomText())
	b := newBrowser(t, s.url)
	b.firstAdminLogin(s)

	b.open("/admin")
	b.submit("open Admin › Options", chromedp.Search(`//main//a[@href="/admin/options"]`))
	b.waitHeading("Options")
	b.screenshot("options")
	b.submit("open the options of "+getProcess, chromedp.Search(fmt.Sprintf(`//main//a[@href="/admin/options/%s"]`, getProcess)))
	b.waitHeading(getProcess)
	original := b.value("source")
	if !strings.Contains(original, "show_qr_code = True") {
		t.Fatalf("the editor of %s holds no line show_qr_code = True:\n%s", getProcess, original)
	}
	b.screenshot("option-script")

	// A misspelt option name is refused with the name it resembles, and
	// the refused script stays in the editor to be fixed.
	b.setValue("source", strings.Replace(original, "show_qr_code = True", "show_qr_cod = True", 1))
	status := b.submit("press Validate", actionButton("validate"))
	if status < 400 || status >= 500 {
		t.Errorf("Validate of a misspelt script answered %d, want a 4xx refusal", status)
	}
	if got := b.alert(); !strings.Contains(got, "did you mean show_qr_code?") || !strings.Contains(got, "line 6") {
		t.Errorf("Validate of show_qr_cod = True says %q, want the line (6) and \"did you mean show_qr_code?\"", got)
	}
	if got := b.value("source"); !strings.Contains(got, "show_qr_cod = True") {
		t.Errorf("after the refusal the editor holds:\n%s\nwant the submitted script with show_qr_cod = True", got)
	}
	b.screenshot("validate-refused")

	// A dry run for alice shows the options she would get.
	fixed := strings.Replace(original, "show_qr_code = True", "show_qr_code = False", 1)
	b.setValue("source", fixed)
	b.do("enter the dry-run user", chromedp.SendKeys(chromedp.ID("user"), "alice"))
	if status := b.submit("press Dry run", actionButton("dryrun")); status != 200 {
		t.Errorf("Dry run answered %d, want 200", status)
	}
	for name, want := range map[string]string{
		"profile_name": "MobileID Alice Example",
		"server_name":  "Smart ID",
		"user_id":      "alice@example.com",
		"show_qr_code": "false",
	} {
		if got := b.dryRunValue(name); got != want {
			t.Errorf("the dry run shows %s = %q, want %q", name, got, want)
		}
	}
	b.screenshot("dry-run")

	if status := b.submit("press Save", actionButton("save")); status != 200 {
		t.Errorf("Save answered %d, want 200", status)
	}
	if got := b.notice(); !strings.Contains(got, "Saved version 2") {
		t.Errorf("after Save the page says %q, want \"Saved version 2\"", got)
	}
	if got := b.value("source"); !strings.Contains(got, "show_qr_code = False") {
		t.Errorf("after Save the editor holds:\n%s\nwant the saved script with show_qr_code = False", got)
	}
	b.screenshot("saved")
	if got := optionsTest(t, in)["show_qr_code"]; got != false {
		t.Errorf("after the save `lanyard options test --json` gives show_qr_code = %v, want false", got)
	}

	b.submit("press Restore version 1", chromedp.Search(xpathText("//main//button", "Restore version 1")))
	b.waitHeading(getProcess)
	if got := b.notice(); !strings.Contains(got, "Version 1 restored as version 3") {
		t.Errorf("after Restore the page says %q, want \"Version 1 restored as version 3\"", got)
	}
	if got := b.value("source"); got != original {
		t.Errorf("after restoring version 1 the editor holds:\n%s\nwant version 1:\n%s", got, original)
	}
	if got := b.text(chromedp.Search(`//main//table//tr[td[1]/a]`)); !strings.HasPrefix(got, "3 (current)") {
		t.Errorf("the newest row of the version history is %q, want version 3 marked current", got)
	}
	b.screenshot("restored")
	if got := optionsTest(t, in)["show_qr_code"]; got != true {
		t.Errorf("after the restore `lanyard options test --json` gives show_qr_code = %v, want true", got)
	}

	b.open("/admin")
	b.submit("open Admin › Audit log", chromedp.Search(`//main//a[@href="/admin/audit"]`))
	b.waitHeading("Audit log")
	rows := `//main//tr[td/code[normalize-space()="options.save"]]`
	who := b.texts(rows + "/td[2]")
	details := b.texts(rows + `/td[@class="detail"]`)
	if len(details) != 2 {
		t.Fatalf("the audit log shows %d options.save events, want 2 (the save and the restore): %q", len(details), details)
	}
	for i, w := range who {
		if w != "admin" {
			t.Errorf("options.save event %d was made by %q, want admin", i+1, w)
		}
	}
	saved, restored := auditFor(details, "version 2"), auditFor(details, "version 3")
	switch {
	case saved == "" || restored == "":
		t.Errorf("the options.save events do not name versions 2 and 3: %q", details)
	default:
		wantDiff(t, "the save (version 2)", saved, "- show_qr_code = True", "+ show_qr_code = False")
		wantDiff(t, "the restore (version 3)", restored, "- show_qr_code = False", "+ show_qr_code = True")
	}
	b.screenshot("audit")
}

// firstAdminLogin logs in as admin with the one-time password the server
// printed on its first start and replaces it, as an administrator must
// before anything else.
func (b *browser) firstAdminLogin(s *server) {
	b.t.Helper()
	if !waitFor(readyTimeout, func() bool { return len(adminPasswordLines(s.stdout.String())) > 0 }) {
		b.t.Fatalf("no admin password line on stdout: %q", s.stdout)
	}
	otp := adminPassword(b.t, s.stdout.String())
	b.open("/login")
	b.fillLogin("admin", otp)
	b.waitHeading("Change password")
	newPW := "admin-" + randomText()
	b.do("fill in the password form",
		chromedp.SendKeys(chromedp.ID("current"), otp),
		chromedp.SendKeys(chromedp.ID("new"), newPW),
		chromedp.SendKeys(chromedp.ID("repeat"), newPW),
	)
	b.submit("change the password", chromedp.Search(`//form[@action="/password"]//button[@type="submit"]`))
	if got := b.notice(); !strings.Contains(got, "Your password has been changed.") {
		b.t.Fatalf("after changing the one-time password the page says %q", got)
	}
}

// actionButton is the submit button of the option editor for an action.
func actionButton(action string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//main//form//button[@name="action" and @value=%q]`, action))
}

// dryRunValue returns the value the dry run shows for an option.
func (b *browser) dryRunValue(name string) string {
	b.t.Helper()
	return b.text(chromedp.Search(fmt.Sprintf(
		`//main//dl[@aria-label="Dry run result"]/dt[normalize-space()=%q]/following-sibling::dd[1]`, name)))
}

// optionsTest runs `lanyard options test --json` for alice against the
// installation and returns the options she gets.
func optionsTest(t *testing.T, in instance) map[string]any {
	t.Helper()
	r := mustLanyard(t, append([]string{"options", "test", getProcess, "--user", "alice", "--json"}, in.args()...)...)
	var opts map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &opts); err != nil {
		t.Fatalf("lanyard options test --json printed no JSON object (%v): %q", err, r.stdout)
	}
	return opts
}

// auditFor returns the detail that starts with the line first, or "".
func auditFor(details []string, first string) string {
	for _, d := range details {
		if line, _, _ := strings.Cut(d, "\n"); strings.TrimSpace(line) == first {
			return d
		}
	}
	return ""
}

// wantDiff checks that an audited diff holds each line prefix given.
func wantDiff(t *testing.T, what, diff string, prefixes ...string) {
	t.Helper()
	for _, p := range prefixes {
		found := false
		for line := range strings.Lines(diff) {
			if strings.HasPrefix(strings.TrimSpace(line), p) {
				found = true
			}
		}
		if !found {
			t.Errorf("the audited diff of %s has no line %q:\n%s", what, p, diff)
		}
	}
}
