package e2e_test

import (
	"database/sql"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/skip2/go-qrcode"
)

// TestWalletScan enrolls through the app's own Scan: Chromium's fake camera
// films the QR code the desktop shows, the page decodes it, and Activate
// enrolls. A camera that films a QR code holding no enrollment link gets
// a clear message, and nothing is stored.
func TestWalletScan(t *testing.T) {
	_, s, pw := serverWithAlice(t)
	desktop := newBrowser(t, s.url)
	desktop.open("/login")
	desktop.fillLogin("alice", pw)
	desktop.waitHeading("What do you want to do?")
	link := desktopActivation(t, desktop, "Next")
	dir := t.TempDir()

	refuse := func(name, text, want string) {
		t.Helper()
		video := cameraVideo(t, qrFile(t, dir, name+".png", text))
		p := newWalletPhone(t, s.url, name, fakeCamera(video)...)
		p.open("/wallet/#scan")
		p.screen("scan")
		p.press("scan", "Scan")
		p.waitMessage("alert", want)
		p.screenshot("refused")
		if got := p.storedProfiles(); len(got) != 0 {
			t.Errorf("after a QR code of %s the app stored %+v", name, got)
		}
	}
	refuse("not-a-link", "Hello, this is not an enrollment link.", "not an enrollment link")
	refuse("not-enroll", s.url+"/app/v1/sync?code=AAAABBBBCCCCDDDDEEEEFFFF", "path must end in /app/v1/enroll")

	phone := newWalletPhone(t, s.url, "phone", fakeCamera(cameraVideo(t, qrFile(t, dir, "qr.png", link)))...)
	phone.open("/wallet/")
	phone.screen("profiles")
	phone.tab("Scan", "scan")
	phone.press("scan", "Scan")
	phone.screen("enroll")
	phone.do("wait for Activate", chromedp.WaitEnabled(chromedp.ID("activate")))
	phone.screenshot("scanned")
	device := phone.value("device-name")
	phone.press("enroll", "Activate")
	phone.screen("profiles")
	phone.waitProfile(aliceProfile, "active")
	phone.screenshot("profiles")
	desktopFinish(t, desktop, device)
}

// qrFile writes a PNG of a QR code holding text.
func qrFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	png, err := qrcode.Encode(text, qrcode.Medium, 480)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestWalletRefusals opens enrollment links the server must refuse — used,
// cancelled, expired, of an inactive or a locked user, of a server that is
// not Lanyard — and files the app cannot
// decrypt: each gets a clear message on the phone, and the phone stores
// nothing.
func TestWalletRefusals(t *testing.T) {
	in, s, pw := serverWithAlice(t)
	ck := mustLogin(t, s.url, "alice", pw)
	phone := newWalletPhone(t, s.url, "phone")

	refused := func(what, link, want string) string {
		t.Helper()
		phone.do("open the enrollment link", chromedp.Navigate(link))
		phone.screen("enroll")
		phone.do("wait for Activate", chromedp.WaitEnabled(chromedp.ID("activate")))
		phone.press("enroll", "Activate")
		msg := phone.waitMessage("alert", want)
		phone.screenshot(what)
		if strings.Contains(msg, "code=") {
			t.Errorf("the message about a %s code repeats the link: %q", what, msg)
		}
		if enabled := step(phone.browser, "read Activate", chromedp.Evaluate[bool](`!document.getElementById("activate").disabled`)); enabled {
			t.Errorf("after a %s code the app still offers Activate", what)
		}
		if got := phone.storedProfiles(); len(got) != 0 {
			t.Errorf("after a %s code the app stored %+v", what, got)
		}
		return msg
	}

	// A code the reference app has used already.
	step, link := startGetMobileIDOverHTTP(t, s, ck, "next")
	newPhone(t).enroll(link)
	refused("used", link, "activation code")
	fetch(t, nil, s.url+"/mobile-id/get/"+step+"/finish", url.Values{}, ck)
	lockMobileIDOverHTTP(t, s, ck)

	// A cancelled process.
	step, link = startGetMobileIDOverHTTP(t, s, ck, "next")
	fetch(t, nil, s.url+"/mobile-id/get/"+step+"/cancel", url.Values{}, ck)
	refused("cancelled", link, "activation code")

	// A code past its lifetime: refused as expired, or as void once the
	// server's clean-up has ended the process that waited for it.
	_, link = startGetMobileIDOverHTTP(t, s, ck, "next")
	ageActivationCodes(t, in)
	if msg := refused("expired", link, "activation code"); !strings.Contains(msg, "expired") && !strings.Contains(msg, "not valid") {
		t.Errorf("an expired code is refused with %q, want it said expired or no longer valid", msg)
	}

	// A user made inactive after the QR code was shown, and one locked,
	// which locks the mobile ID waiting for the app and voids its code.
	_, link = startGetMobileIDOverHTTP(t, s, ck, "next")
	mustLanyard(t, append([]string{"user", "set-state", "alice", "inactive"}, in.args()...)...)
	refused("inactive-user", link, "alice is inactive")
	mustLanyard(t, append([]string{"user", "set-state", "alice", "active"}, in.args()...)...)
	ck = mustLogin(t, s.url, "alice", pw)
	_, link = startGetMobileIDOverHTTP(t, s, ck, "next")
	mustLanyard(t, append([]string{"user", "set-state", "alice", "locked"}, in.args()...)...)
	refused("locked-user", link, "activation code is not valid")

	// A link to a server that is not Lanyard, pasted: the app says whose
	// link it is before Activate, and what went wrong after.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "this is not Lanyard", http.StatusNotFound)
	}))
	defer other.Close()
	phone.open("/wallet/#scan")
	phone.screen("scan")
	phone.setValue("link", other.URL+"/app/v1/enroll?code=AAAABBBBCCCCDDDDEEEEFFFF")
	phone.do("open the link", chromedp.Click(chromedp.Search(`//form[@id="paste"]//button`)))
	phone.screen("enroll")
	if got := phone.text(chromedp.Search(`//p[@id="enroll-foreign"]`)); !strings.Contains(got, strings.TrimPrefix(other.URL, "http://")) {
		t.Errorf("the enrollment screen of another server's link says %q, want it to name that server", got)
	}
	phone.press("enroll", "Activate")
	phone.waitMessage("alert", "not a Lanyard server")
	phone.screenshot("not-lanyard")
	if got := phone.storedProfiles(); len(got) != 0 {
		t.Errorf("after a link to a server that is not Lanyard the app stored %+v", got)
	}

	// Files that are not what Decrypt opens.
	dir := t.TempDir()
	for _, c := range []struct{ name, content, want string }{
		{"noise.p7m", "\x30\x82\x01\x00 not really DER", "damaged"},
		{"letter.txt", "Dear Alice, this is plain text.\n", "not an encrypted message"},
		{"empty.p7m", "", "empty"},
	} {
		phone.tab("Decrypt", "decrypt")
		phone.choose("decrypt-file", writeFile(t, dir, c.name, c.content))
		phone.press("decrypt", "Decrypt")
		phone.waitMessage("alert", c.want)
	}
	phone.screenshot("damaged-file")
	if got := phone.storedProfiles(); len(got) != 0 {
		t.Errorf("after the refusals the app stored %+v", got)
	}
}

// ageActivationCodes puts the end of every activation code's lifetime in
// the past, as waiting that long would.
func ageActivationCodes(t *testing.T, in instance) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(in.data, "lanyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`PRAGMA busy_timeout = 5000`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE enrollments SET code_expires_at = 1 WHERE code_hash IS NOT NULL`); err != nil {
		t.Fatalf("age the activation codes: %v", err)
	}
}
