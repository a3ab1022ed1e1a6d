package e2e_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// desktopMobileLogin presses Log in with mobile ID on the desktop's login
// page and returns the number it shows, the login link the QR code holds
// and the QR code's PNG.
func desktopMobileLogin(t *testing.T, b *browser) (match, link string, qr []byte) {
	t.Helper()
	b.open("/login")
	b.submit("click Log in with mobile ID", chromedp.Search(xpathText("//main//button", "Log in with mobile ID")))
	b.waitHeading("Log in with mobile ID")
	img := chromedp.Search(`//main//img[@alt="QR code"]`)
	b.do("wait for the QR code", chromedp.WaitVisible(img))
	match = b.text(chromedp.Search(`//main//output[@name="match"]`))
	if len(match) != 2 || strings.Trim(match, "0123456789") != "" {
		t.Fatalf("the login page shows the number %q, want two digits", match)
	}
	src := step(b, "read the QR code's source", chromedp.AttributeValue(img, "src"))
	qr = dataPNG(t, src.Value)
	link = decodeQR(t, qr)
	if shown := b.text(chromedp.Search(`//main//code[contains(@class,"link")]`)); shown != link {
		t.Errorf("the login page shows the link %q, the QR code holds %q", shown, link)
	}
	b.screenshot("login-qr-code")
	return match, link, qr
}

// waitLoggedIn waits for the desktop's waiting page to log in by itself.
func waitLoggedIn(t *testing.T, b *browser) {
	t.Helper()
	b.waitHeading("What do you want to do?")
	if p := b.path(); p != "/" {
		t.Errorf("after the approval the browser is at %s, want /", p)
	}
	if b.sessionCookie() == nil {
		t.Error("after the approval the browser has no session cookie")
	}
	b.screenshot("logged-in")
}

// TestWalletLogin logs in to Self-Service with the mobile ID: the desktop's
// login page shows a QR code and a number; the phone app opens the link,
// shows who asks, offers the number among others, and Approve logs the
// desktop in by itself. Deny, and a wrong number, log nobody in.
func TestWalletLogin(t *testing.T) {
	_, s, pw := serverWithAlice(t)
	_, enroll := startGetMobileIDOverHTTP(t, s, mustLogin(t, s.url, "alice", pw), "next")
	phone := newWalletPhone(t, s.url, "phone")
	phoneActivate(t, phone, enroll)

	desktop := newBrowser(t, s.url)
	match, link, _ := desktopMobileLogin(t, desktop)
	phone.do("open the login link", chromedp.Navigate(link))
	phone.screen("approve")
	phone.do("wait for the request", chromedp.WaitVisible(chromedp.ID("approve-request")))
	if loc := phone.path(); strings.Contains(loc, "request=") {
		t.Errorf("the app's address still holds the login request: %s", loc)
	}
	for id, want := range map[string]string{"approve-profile": aliceProfile, "approve-browser": "Chrome", "approve-address": "127.0.0.1"} {
		if got := phone.text(chromedp.Search(`//*[@id="` + id + `"]`)); !strings.Contains(got, want) {
			t.Errorf("the approval screen shows %s %q, want %q in it", id, got, want)
		}
	}
	choices := phone.texts(`//div[@id="approve-choices"]/button`)
	if len(choices) != 3 || !slices.Contains(choices, match) {
		t.Fatalf("the app offers %q, want three numbers with %s among them", choices, match)
	}
	phone.screenshot("approve")
	phone.do("choose "+match, chromedp.Click(chromedp.Search(xpathText(`//div[@id="approve-choices"]/button`, match))))
	phone.press("approve", "Approve")
	phone.waitMessage("status", "Approved")
	phone.screenshot("approved")
	waitLoggedIn(t, desktop)

	// Deny logs nobody in.
	other := newBrowser(t, s.url)
	_, link, _ = desktopMobileLogin(t, other)
	phone.do("open the login link", chromedp.Navigate(link))
	phone.do("wait for the request", chromedp.WaitVisible(chromedp.ID("approve-request")))
	phone.press("approve", "Deny")
	phone.waitMessage("status", "Denied")
	other.do("wait for the refusal", chromedp.WaitVisible(chromedp.Search(`//main//p[@role="alert" and contains(., "denied")]`)))
	if other.sessionCookie() != nil {
		t.Error("a denied login left a session cookie")
	}
	other.screenshot("denied")

	// A wrong number voids the request.
	match, link, _ = desktopMobileLogin(t, other)
	phone.do("open the login link", chromedp.Navigate(link))
	phone.do("wait for the request", chromedp.WaitVisible(chromedp.ID("approve-request")))
	var wrong string
	for _, c := range phone.texts(`//div[@id="approve-choices"]/button`) {
		if c != match {
			wrong = c
		}
	}
	phone.do("choose "+wrong, chromedp.Click(chromedp.Search(xpathText(`//div[@id="approve-choices"]/button`, wrong))))
	phone.press("approve", "Approve")
	phone.waitMessage("alert", "not the one the browser shows")
	other.do("wait for the refusal", chromedp.WaitVisible(chromedp.Search(`//main//p[@role="alert" and contains(., "not the one")]`)))
	if other.sessionCookie() != nil {
		t.Error("a wrong number left a session cookie")
	}
}

// TestAppApprove logs in with `lanyard-app approve` on the QR code's PNG:
// it exits 0 and the desktop logs in by itself; a login link, or a
// challenge, of a server the wallet holds no profile of is refused without
// signing.
func TestAppApprove(t *testing.T) {
	_, s, pw := serverWithAlice(t)
	phone := newPhone(t)
	getMobileIDOverHTTP(t, s, mustLogin(t, s.url, "alice", pw), "next", phone)

	desktop := newBrowser(t, s.url)
	match, _, qr := desktopMobileLogin(t, desktop)
	qrFile := filepath.Join(t.TempDir(), "login.png")
	if err := os.WriteFile(qrFile, qr, 0o600); err != nil {
		t.Fatal(err)
	}
	r := phone.must("approve", qrFile, "--match", match)
	if !strings.Contains(r.stdout, "approved") {
		t.Errorf("lanyard-app approve printed %q, want it to say approved", r.stdout)
	}
	waitLoggedIn(t, desktop)

	// Another server's login link: the wallet holds no profile of it.
	in2 := newInstance(t, "sqlite")
	s2 := startServer(t, in2)
	s2.waitReady()
	stranger := newBrowser(t, s2.url)
	match, link, _ := desktopMobileLogin(t, stranger)
	r = phone.run("approve", link, "--match", match)
	if stderr := strings.TrimSpace(r.stderr); r.code != 1 || !strings.Contains(stderr, "no active profile") || strings.Contains(stderr, "\n") {
		t.Errorf("lanyard-app approve for a server without a profile: exit %d, stderr %q; want 1 and one line", r.code, r.stderr)
	}
	// The waiting page reloads itself every second (a reload of the test's
	// own would race with it): after two of them it still waits.
	time.Sleep(2 * time.Second)
	stranger.waitHeading("Log in with mobile ID")
	// Nor does it answer that server's challenge: a signature made for it
	// could be relayed to the server of the profile.
	r = phone.run("authenticate", s2.url)
	if r.code != 1 || !strings.Contains(r.stderr, "no active profile") {
		t.Errorf("lanyard-app authenticate at a server without a profile: exit %d, stderr %q; want 1, refused", r.code, r.stderr)
	}
}
