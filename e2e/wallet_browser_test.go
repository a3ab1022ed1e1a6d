package e2e_test

import (
	"fmt"
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
	b.screenshot("introduction")
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
	in, s, pw := serverWithAlice(t)
	enableEncryptionCertificates(t, in)

	desktop := newBrowser(t, s.url)
	desktop.open("/login")
	desktop.screenshot("login")
	desktop.fillLogin("alice", pw)
	desktop.waitHeading("What do you want to do?")
	desktop.screenshot("dashboard")
	link := desktopActivation(t, desktop, "Next")

	phone := newWalletPhone(t, s.url, "phone")
	device := phoneActivate(t, phone, link)
	desktopFinish(t, desktop, device)

	rp := newRelyingParty(t, s)
	dir := t.TempDir()
	first := onlyProfile(t, phone)
	if len(first.EncryptionPEMs) != 1 || first.DeviceName != device {
		t.Fatalf("the phone stored %+v, want one encryption key and the device %q", first, device)
	}

	// Sign: the download verifies with openssl against the chain.
	doc := writeFile(t, dir, "contract.txt", "I, Alice Example, agree.\r\nA line without CR\n")
	phoneSign(t, phone, doc)
	p7s := writeFile(t, dir, "contract.txt.p7s", string(phone.download("contract.txt.p7s")))
	gpgsmVerify(t, rp.chain, doc, p7s)
	rp.run("cms", "-verify", "-binary", "-content", doc, "-inform", "DER", "-in", p7s,
		"-CAfile", rp.chain, "-purpose", "smimesign", "-out", filepath.Join(dir, "verified.txt"))

	// Decrypt what openssl encrypts to the phone's encryption certificate,
	// with PKCS #1 v1.5 and with OAEP key transport, as DER, PEM and S/MIME.
	recipient := writeFile(t, dir, "recipient.pem", first.EncryptionPEMs[0])
	for _, c := range []struct {
		name, form string
		opts       []string
	}{
		{"secret-v15.txt", "SMIME", nil},
		{"secret-oaep.txt", "DER", []string{"-keyopt", "rsa_padding_mode:oaep"}},
		{"secret-pem.txt", "PEM", []string{"-aes128"}},
	} {
		want := "For Alice only: " + c.name + "\nSecond line.\n"
		plain := writeFile(t, dir, c.name, want)
		enveloped := filepath.Join(dir, c.name+".p7m")
		args := append([]string{"cms", "-encrypt", "-binary", "-in", plain, "-outform", c.form, "-out", enveloped, "-recip", recipient}, c.opts...)
		rp.run(args...)
		if got := phoneDecrypt(t, phone, enveloped, c.name); string(got) != want {
			t.Errorf("the phone decrypted %s to %q, want %q", filepath.Base(enveloped), got, want)
		}
	}
	phone.screenshot("decrypted")
	checkStorage(t, phone, link)

	// A second phone replaces the first: the first's mobile ID is locked,
	// and its encryption key reaches the second phone by recovery, which
	// opens a message encrypted to the old certificate.
	old := writeFile(t, dir, "old.txt", "Encrypted to the first phone.\n")
	oldEnveloped := filepath.Join(dir, "old.txt.p7m")
	rp.run("cms", "-encrypt", "-binary", "-in", old, "-outform", "DER", "-out", oldEnveloped, "-recip", recipient)
	desktop.open("/")
	link2 := desktopActivation(t, desktop, "Lock")
	second := newWalletPhone(t, s.url, "phone2")
	device2 := phoneActivate(t, second, link2)
	desktopFinish(t, desktop, device2)
	second.waitRecovered(aliceProfile, 1)
	second.screenshot("recovered")
	if got := onlyProfile(t, second); len(got.Recovered) != 2 || got.Recovered[0] == got.Recovered[1] {
		t.Errorf("the second phone holds encryption keys recovered %v, want its own and one recovered", got.Recovered)
	}
	if got := phoneDecrypt(t, second, oldEnveloped, "old.txt"); string(got) != "Encrypted to the first phone.\n" {
		t.Errorf("the second phone decrypted the old message to %q", got)
	}
	checkStorage(t, second, link2)

	// The first phone learns that its mobile ID is locked when it shows its
	// profiles, says so again on Refresh, and signs no more.
	phone.tab("Profiles", "profiles")
	phone.waitProfile(aliceProfile, "locked")
	phone.press("profiles", "Refresh")
	phone.waitMessage("status", "is locked")
	phone.screenshot("locked")
	phone.tab("Sign", "sign")
	phone.choose("sign-file", doc)
	phone.press("sign", "Sign")
	phone.waitMessage("alert", "locked")

	// The app meets Chromium's installability criteria, and with the
	// server gone it still starts, shows its profile and signs.
	if errs := second.installabilityErrors(); len(errs) > 0 {
		t.Errorf("Chromium would not install the app: %q", errs)
	}
	s.stopOK()
	second.do("reload the app offline", chromedp.Navigate(s.url+"/wallet/"))
	second.screen("profiles")
	second.waitProfile(aliceProfile, "active")
	second.screenshot("offline")
	phoneSign(t, second, old)
	p7s = writeFile(t, dir, "old.txt.p7s", string(second.download("old.txt.p7s")))
	rp.run("cms", "-verify", "-binary", "-content", old, "-inform", "DER", "-in", p7s,
		"-CAfile", rp.chain, "-purpose", "smimesign", "-out", filepath.Join(dir, "verified-offline.txt"))
}

// onlyProfile returns the one profile the phone stores.
func onlyProfile(t *testing.T, p *walletPhone) storedProfile {
	t.Helper()
	ps := p.storedProfiles()
	if len(ps) != 1 {
		t.Fatalf("the phone stores %d profiles, want 1: %+v", len(ps), ps)
	}
	return ps[0]
}

// phoneSign signs a file on the phone's Sign screen: choose it, tap Sign.
func phoneSign(t *testing.T, p *walletPhone, file string) {
	t.Helper()
	p.tab("Sign", "sign")
	p.choose("sign-file", file)
	p.screenshot("sign")
	p.press("sign", "Sign")
	p.waitMessage("status", "Signed "+filepath.Base(file))
}

// phoneDecrypt decrypts a file on the phone's Decrypt screen and returns
// what it downloaded under the name out.
func phoneDecrypt(t *testing.T, p *walletPhone, file, out string) []byte {
	t.Helper()
	p.tab("Decrypt", "decrypt")
	p.choose("decrypt-file", file)
	p.press("decrypt", "Decrypt")
	p.waitMessage("status", "Decrypted "+filepath.Base(file))
	return p.download(out)
}

// waitRecovered waits until the profile holds n recovered encryption keys,
// which the app fetches by itself.
func (p *walletPhone) waitRecovered(name string, n int) {
	p.t.Helper()
	p.do(fmt.Sprintf("wait for %d recovered keys", n), chromedp.WaitVisible(chromedp.Search(
		fmt.Sprintf(`%s//tbody[count(tr[td[1][normalize-space()="encryption (recovered)"]])=%d]`, profileCard(name), n))))
}

// checkStorage searches everything the app stored: every private or secret
// key is a CryptoKey that cannot be exported, and no key, no activation
// code is in localStorage, the Cache Storage or the address.
func checkStorage(t *testing.T, p *walletPhone, link string) {
	t.Helper()
	_, code, ok := strings.Cut(link, "code=")
	if !ok || code == "" {
		t.Fatalf("no code in %q", link)
	}
	a := p.auditStorage()
	// Each profile has a signature, an authentication and a transport key.
	if a.PrivateKeys < 3 || len(a.Extractable) > 0 || len(a.KeyMaterial) > 0 {
		t.Errorf("the app stores %d keys, %d private: extractable %q, key material in %q", a.Keys, a.PrivateKeys, a.Extractable, a.KeyMaterial)
	}
	if len(a.LocalStorage) > 0 || a.SessionItems > 0 {
		t.Errorf("the app uses localStorage %q and %d sessionStorage items, want none", a.LocalStorage, a.SessionItems)
	}
	if strings.Contains(a.Location, code) {
		t.Errorf("the app's address holds the activation code: %s", a.Location)
	}
	if len(a.CachedURLs) == 0 {
		t.Error("the service worker cached nothing: the app cannot start offline")
	}
	for i, u := range a.CachedURLs {
		if !strings.HasPrefix(u, p.base+"/wallet/") || strings.Contains(u, "/app/v1/") {
			t.Errorf("the Cache Storage holds %s, which is not the app's shell", u)
		}
		if body := a.CachedBodies[i]; strings.Contains(body, code) || strings.Contains(body, "PRIVATE KEY") {
			t.Errorf("the cached %s holds the activation code or a key", u)
		}
	}
	for _, pr := range p.storedProfiles() {
		if strings.Contains(fmt.Sprint(pr), code) {
			t.Errorf("the stored profile %s holds the activation code", pr.ProfileName)
		}
	}
}

// TestWalletSeveralServers holds mobile IDs of two Lanyard servers in one
// phone app: the first enrolls from the link the phone's camera opens, the
// second from a link pasted into the first server's app, which says whose
// link it is. Each signs with its own certificate, which its own server's
// chain verifies.
func TestWalletSeveralServers(t *testing.T) {
	var servers []*server
	var links []string
	for range 2 {
		_, s, pw := serverWithAlice(t)
		_, link := startGetMobileIDOverHTTP(t, s, mustLogin(t, s.url, "alice", pw), "next")
		servers, links = append(servers, s), append(links, link)
	}
	phone := newWalletPhone(t, servers[0].url, "phone")
	phoneActivate(t, phone, links[0])

	phone.tab("Scan", "scan")
	phone.setValue("link", links[1])
	phone.do("open the link", chromedp.Click(chromedp.Search(`//form[@id="paste"]//button`)))
	phone.screen("enroll")
	if got, there := phone.text(chromedp.Search(`//p[@id="enroll-foreign"]`)), strings.TrimPrefix(servers[1].url, "http://"); !strings.Contains(got, there) {
		t.Errorf("the enrollment screen of the second server's link says %q, want it to name %s", got, there)
	}
	phone.screenshot("second-server")
	phone.press("enroll", "Activate")
	phone.screen("profiles")
	cards := step(phone.browser, "count the profiles", chromedp.Evaluate[int](`document.querySelectorAll("article.profile").length`))
	if cards != 2 {
		t.Fatalf("the app shows %d profiles, want 2", cards)
	}
	phone.screenshot("two-servers")

	dir := t.TempDir()
	for i, s := range servers {
		doc := writeFile(t, dir, fmt.Sprintf("doc%d.txt", i), fmt.Sprintf("Signed for server %d.\n", i))
		phone.tab("Sign", "sign")
		// The screen fills its choice of profiles once it has read them.
		opts := step(phone.browser, "read the profiles to sign with", chromedp.Poll[[]string](
			`(() => { const o = Array.from(document.querySelectorAll("#sign-profile option"), (o) => o.value); return o.length >= 2 ? o : null })()`))
		if len(opts) != 2 {
			t.Fatalf("the Sign screen offers %d profiles, want 2", len(opts))
		}
		phone.do("choose the profile", chromedp.SetValue(chromedp.ID("sign-profile"), opts[i]))
		phone.choose("sign-file", doc)
		phone.press("sign", "Sign")
		phone.waitMessage("status", "Signed "+filepath.Base(doc))
		p7s := writeFile(t, dir, filepath.Base(doc)+".p7s", string(phone.download(filepath.Base(doc)+".p7s")))
		rp := newRelyingParty(t, s)
		rp.run("cms", "-verify", "-binary", "-content", doc, "-inform", "DER", "-in", p7s,
			"-CAfile", rp.chain, "-purpose", "smimesign", "-out", filepath.Join(dir, "verified.txt"))
	}
}
