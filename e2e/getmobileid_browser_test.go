package e2e_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The profile the default options give alice, and the device name her
// test phone enrolls with.
const (
	aliceProfile = "MobileID Alice Example"
	aliceDevice  = "Alice's test phone"
)

// recoveryTimeout bounds the wait for the background job that delivers
// recovered encryption keys; it runs every 2 seconds.
const recoveryTimeout = 20 * time.Second

// TestBrowserGetMobileID is the use case "Get mobile ID" as a user meets
// it: alice orders a mobile ID in Self-Service, scans the QR code with the
// app, and finds the active profile with valid certificates on the Mobile
// ID page, which the CA's OCSP responder confirms to openssl.
func TestBrowserGetMobileID(t *testing.T) {
	in := newInstance(t, "sqlite")
	s := startServer(t, in)
	s.waitReady()
	pw := "alice-" + randomText()
	addUser(t, in, "alice", pw)
	b := newBrowser(t, s.url)
	phone := newPhone(t)

	b.open("/login")
	b.waitHeading("Log in to Self-Service")
	b.screenshot("login")
	b.fillLogin("alice", pw)
	b.waitHeading("What do you want to do?")
	b.screenshot("dashboard")

	b.submit("click Get Mobile ID", chromedp.Search(xpathText("//main//a", "Get Mobile ID")))
	b.waitHeading("Get Mobile ID")
	intro := b.text(chromedp.Search("//main"))
	for _, want := range []string{"Step 1", "Signature certificate", "Authentication certificate", "valid for 2 years", aliceProfile} {
		if !strings.Contains(intro, want) {
			t.Errorf("the introduction does not say %q:\n%s", want, intro)
		}
	}
	if strings.Contains(intro, "Encryption certificate") {
		t.Errorf("the introduction offers an encryption certificate, which the default options leave out:\n%s", intro)
	}
	b.screenshot("introduction")

	b.submit("click Next on the introduction", chromedp.Search(xpathText("//main//button", "Next")))
	b.waitHeading("Get Mobile ID")
	qr := chromedp.Search(`//main//img[@alt="QR code"]`)
	b.do("wait for the QR code", chromedp.WaitVisible(qr))
	src := step(b, "read the QR code's source", chromedp.AttributeValue(qr, "src"))
	link := b.text(chromedp.Search(`//main//code[contains(concat(" ", @class, " "), " link ")]`))
	if want := s.url + "/app/v1/enroll?code="; !strings.HasPrefix(link, want) {
		t.Errorf("the enrollment link is %q, want it to start with %q", link, want)
	}
	if got := b.text(chromedp.Search("//main")); !strings.Contains(got, "Scan this QR code") {
		t.Errorf("the activation page does not explain how to proceed:\n%s", got)
	}
	b.screenshot("activation")
	qrFile := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(qrFile, dataPNG(t, src.Value), 0o600); err != nil {
		t.Fatal(err)
	}

	// The phone scans the code on the screen.
	if name := phone.enroll(qrFile); name != aliceProfile {
		t.Errorf("lanyard-app enroll printed %q, want the profile name %q", name, aliceProfile)
	}

	b.submit("click Next on the activation", chromedp.Search(xpathText("//main//button", "Next")))
	b.waitHeading("Mobile ID")
	if p := b.path(); !strings.HasPrefix(p, "/mobile-id") {
		t.Errorf("Next after the activation led to %s, want the Mobile ID page", p)
	}
	if got := b.notice(); !strings.Contains(got, "Your mobile ID is active.") {
		t.Errorf("after the activation the page says %q, want \"Your mobile ID is active.\"", got)
	}
	card := fmt.Sprintf(`//main//section[@aria-label=%q]`, "Mobile ID "+aliceProfile)
	if got := b.text(chromedp.Search(card + `//h2/span`)); got != "active" {
		t.Errorf("the mobile ID's state is %q, want active", got)
	}
	for fact, want := range map[string]string{
		"Profile name": aliceProfile,
		"Server name":  "Smart ID",
		"User ID":      "alice@example.com",
		"Device":       aliceDevice,
	} {
		if got := b.text(chromedp.Search(fmt.Sprintf(`%s//dl/dt[normalize-space()=%q]/following-sibling::dd[1]`, card, fact))); got != want {
			t.Errorf("the Mobile ID page shows %s %q, want %q", fact, got, want)
		}
	}
	certRows := b.rows(card + "//table/tbody/tr")
	b.screenshot("mobile-id")

	rp := newRelyingParty(t, s)
	wallet := phone.profile(aliceProfile)
	if wallet.State != "active" || wallet.ServerName != "Smart ID" || wallet.UserID != "alice@example.com" {
		t.Errorf("the wallet holds the profile %+v, want it active on Smart ID for alice@example.com", wallet)
	}
	if len(certRows) != 2 {
		t.Errorf("the Mobile ID page lists %d certificates, want 2 (signature and authentication): %q", len(certRows), certRows)
	}
	for _, usage := range []string{"signature", "authentication"} {
		cert := wallet.cert(t, usage)
		serial := cert.parse(t).SerialNumber.Text(16)
		row := certRow(certRows, serial)
		if row == nil {
			t.Errorf("the Mobile ID page does not list the %s certificate %s: %q", usage, serial, certRows)
			continue
		}
		checkCertRow(t, usage, row, cert)
		if got := rp.ocsp(usage, cert.PEM); got != "good" {
			t.Errorf("openssl ocsp says %q for the %s certificate, want good", got, usage)
		}
	}
}

// TestAppSignDecryptAuthenticate uses a mobile ID with the reference app
// against relying parties that use openssl: a signature verifies, a
// message encrypted to alice opens, and she authenticates to the server;
// once she locks the mobile ID, authentication fails and OCSP says the
// certificates are revoked.
func TestAppSignDecryptAuthenticate(t *testing.T) {
	s, ck := aliceWithEncryption(t)
	phone := newPhone(t)
	getMobileIDOverHTTP(t, s, ck, "next", phone)
	wallet := phone.profile(aliceProfile)
	rp := newRelyingParty(t, s)
	dir := t.TempDir()

	// The signature verifies with openssl as S/MIME signing, made with the
	// wallet's signature certificate.
	signed := writeFile(t, dir, "msg.txt", "I, Alice Example, agree.\r\nLine two without CRLF\n")
	sig := filepath.Join(dir, "msg.p7s")
	if r := phone.must("sign", "--in", signed, "--out", sig); r.stdout != "" || r.stderr != "" {
		t.Errorf("lanyard-app sign printed stdout %q, stderr %q, want nothing", r.stdout, r.stderr)
	}
	signer := filepath.Join(dir, "signer.pem")
	rp.run("cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", signed,
		"-CAfile", rp.chain, "-purpose", "smimesign", "-signer", signer, "-out", filepath.Join(dir, "verified.txt"))
	if got, err := os.ReadFile(signer); err != nil || strings.TrimSpace(string(got)) != strings.TrimSpace(wallet.cert(t, "signature").PEM) {
		t.Errorf("the message was signed with\n%s(%v)\nwant the wallet's signature certificate\n%s", got, err, wallet.cert(t, "signature").PEM)
	}

	// A message openssl encrypts to the encryption certificate opens.
	want := "The secret for Alice.\nSecond line, no CRLF.\n"
	recipient := writeFile(t, dir, "alice-encryption.pem", wallet.cert(t, "encryption").PEM)
	enveloped := filepath.Join(dir, "secret.p7m")
	rp.run("cms", "-encrypt", "-binary", "-aes256", "-in", writeFile(t, dir, "secret.txt", want), "-out", enveloped, recipient)
	opened := filepath.Join(dir, "secret.out")
	phone.must("decrypt", "--in", enveloped, "--out", opened)
	if got, err := os.ReadFile(opened); err != nil || string(got) != want {
		t.Errorf("lanyard-app decrypt wrote %q (%v), want %q", got, err, want)
	}

	// The server authenticates the phone as alice.
	if got := strings.TrimSpace(phone.must("authenticate", s.url).stdout); got != "alice" {
		t.Errorf("lanyard-app authenticate printed %q, want alice", got)
	}

	// Once alice locks the mobile ID, the phone authenticates no more and
	// the certificates are revoked.
	for _, usage := range []string{"signature", "authentication", "encryption"} {
		if got := rp.ocsp(usage, wallet.cert(t, usage).PEM); got != "good" {
			t.Fatalf("before the lock openssl ocsp says %q for the %s certificate, want good", got, usage)
		}
	}
	lockMobileIDOverHTTP(t, s, ck)
	r := phone.run("authenticate", s.url)
	if stderr := strings.TrimSpace(r.stderr); r.code != 1 || stderr == "" || strings.Contains(stderr, "\n") {
		t.Errorf("lanyard-app authenticate with a locked mobile ID: exit %d, stdout %q, stderr %q; want exit 1 and one line on stderr",
			r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "alice") {
		t.Errorf("lanyard-app authenticate with a locked mobile ID still printed %q", r.stdout)
	}
	for _, usage := range []string{"signature", "authentication"} {
		if got := rp.ocsp(usage, wallet.cert(t, usage).PEM); !strings.HasPrefix(got, "revoked") {
			t.Errorf("after the lock openssl ocsp says %q for the %s certificate, want revoked", got, usage)
		}
	}
}

// TestAppRecoveryOnNewPhone is alice moving to a new phone: she locks her
// mobile ID while ordering a new one, and the new phone receives her old
// encryption key in the background, so a message encrypted to the old
// certificate opens on the new phone.
func TestAppRecoveryOnNewPhone(t *testing.T) {
	s, ck := aliceWithEncryption(t)
	rp := newRelyingParty(t, s)
	dir := t.TempDir()

	oldPhone := newPhone(t)
	getMobileIDOverHTTP(t, s, ck, "next", oldPhone)
	old := oldPhone.profile(aliceProfile)
	oldEnc := old.cert(t, "encryption")
	want := "Written to the first phone's key.\n"
	msg := filepath.Join(dir, "old.p7m")
	rp.run("cms", "-encrypt", "-binary", "-in", writeFile(t, dir, "old.txt", want), "-out", msg,
		writeFile(t, dir, "old-encryption.pem", oldEnc.PEM))

	intro := fetch(t, nil, s.url+"/mobile-id/get", nil, ck)
	if intro.status != http.StatusOK || !strings.Contains(intro.body, "You already have an active mobile ID") ||
		!strings.Contains(intro.body, `value="lock"`) {
		t.Fatalf("the introduction with a mobile ID already active (status %d) does not say so or offers no Lock:\n%s", intro.status, intro.body)
	}
	newPhone := newPhone(t)
	getMobileIDOverHTTP(t, s, ck, "lock", newPhone)
	if got := rp.ocsp("old-signature", old.cert(t, "signature").PEM); !strings.HasPrefix(got, "revoked") {
		t.Errorf("after Lock openssl ocsp says %q for the first phone's signature certificate, want revoked", got)
	}

	newPhone.syncUntil(recoveryTimeout, "a recovered encryption certificate", func(ps []appProfile) bool {
		for _, p := range ps {
			if len(p.certs("encryption", true)) > 0 {
				return true
			}
		}
		return false
	})
	recovered := newPhone.profile(aliceProfile).certs("encryption", true)
	oldSerial := oldEnc.parse(t).SerialNumber.Text(16)
	if len(recovered) != 1 || recovered[0].parse(t).SerialNumber.Text(16) != oldSerial {
		t.Errorf("the new phone recovered %d encryption certificates, want exactly the first phone's (%s)", len(recovered), oldSerial)
	}

	out := filepath.Join(dir, "old.out")
	newPhone.must("decrypt", "--in", msg, "--out", out)
	if got, err := os.ReadFile(out); err != nil || string(got) != want {
		t.Errorf("the new phone decrypted the old message to %q (%v), want %q", got, err, want)
	}

	page := fetch(t, nil, s.url+"/mobile-id", nil, ck)
	recoveredRow := regexp.MustCompile(`<td>encryption \(recovered\)</td>\s*<td><code>` + oldSerial + `</code>`)
	if page.status != http.StatusOK || !recoveredRow.MatchString(page.body) {
		t.Errorf("the Mobile ID page (status %d) does not list the recovered encryption certificate %s:\n%s", page.status, oldSerial, page.body)
	}
}

// enableEncryptionCertificates turns on encryption certificates in the
// options of "Get mobile ID", as an administrator does with the CLI.
func enableEncryptionCertificates(t *testing.T, in instance) {
	t.Helper()
	src := mustLanyard(t, append([]string{"options", "show", getProcess}, in.args()...)...).stdout
	changed := strings.Replace(src, "issue_encryption_certificate = False", "issue_encryption_certificate = True", 1)
	if changed == src {
		t.Fatalf("the options of %s have no line issue_encryption_certificate = False:\n%s", getProcess, src)
	}
	file := writeFile(t, t.TempDir(), "get.star", changed)
	mustLanyard(t, append([]string{"options", "set", getProcess, file}, in.args()...)...)
}

// enrollLink is the enrollment link on the activation page.
var enrollLink = regexp.MustCompile(`<code class="link">([^<]+)</code>`)

// getMobileIDOverHTTP walks alice's session through "Get mobile ID" with
// plain HTTP requests, as the browser sends them: the introduction's
// button (next, or lock when a mobile ID exists), the activation page, the
// phone's enrollment from the link shown, and the last Next.
func getMobileIDOverHTTP(t *testing.T, s *server, ck *http.Cookie, action string, p *phone) {
	t.Helper()
	step, link := startGetMobileIDOverHTTP(t, s, ck, action)
	if name := p.enroll(link); name != aliceProfile {
		t.Errorf("lanyard-app enroll printed %q, want %q", name, aliceProfile)
	}
	finish := fetch(t, nil, s.url+"/mobile-id/get/"+step+"/finish", url.Values{}, ck)
	if finish.status != http.StatusSeeOther || finish.location() != "/mobile-id" || !saysActive(t, s.url, ck, finish) {
		t.Fatalf("Next on the activation page: status %d, Location %q; want 303 to /mobile-id saying the mobile ID is active",
			finish.status, finish.header.Get("Location"))
	}
}

// startGetMobileIDOverHTTP presses the introduction's button and returns
// the process's step path and the enrollment link the activation page
// shows.
func startGetMobileIDOverHTTP(t *testing.T, s *server, ck *http.Cookie, action string) (step, link string) {
	t.Helper()
	start := fetch(t, nil, s.url+"/mobile-id/get", url.Values{"action": {action}}, ck)
	step, found := strings.CutPrefix(start.location(), "/mobile-id/get/")
	if start.status != http.StatusSeeOther || !found || step == "" {
		t.Fatalf("%s on the introduction: status %d, Location %q; want 303 to the process", action, start.status, start.header.Get("Location"))
	}
	page := fetch(t, nil, s.url+"/mobile-id/get/"+step, nil, ck)
	m := enrollLink.FindStringSubmatch(page.body)
	if page.status != http.StatusOK || m == nil {
		t.Fatalf("the activation page (status %d) shows no enrollment link:\n%s", page.status, page.body)
	}
	return step, html.UnescapeString(m[1])
}

// saysActive reports whether the next page of the session of ck, the
// Mobile ID page, says the mobile ID is active, as a browser shows it
// after the redirect: with the cookies the redirect set, which carry its
// message.
func saysActive(t *testing.T, base string, ck *http.Cookie, redirect response) bool {
	t.Helper()
	page := follow(t, base, redirect, ck)
	return page.status == http.StatusOK && strings.Contains(page.body, "Your mobile ID is active.")
}

// lockButton is the form of the Mobile ID page's Lock mobile ID button.
var lockButton = regexp.MustCompile(`<form method="post" action="(/mobile-id/[^"/]+/lock)"`)

// lockMobileIDOverHTTP presses Lock mobile ID on the Mobile ID page.
func lockMobileIDOverHTTP(t *testing.T, s *server, ck *http.Cookie) {
	t.Helper()
	page := fetch(t, nil, s.url+"/mobile-id", nil, ck)
	m := lockButton.FindStringSubmatch(page.body)
	if page.status != http.StatusOK || m == nil || !strings.Contains(page.body, "Lock mobile ID") {
		t.Fatalf("the Mobile ID page (status %d) has no Lock mobile ID button:\n%s", page.status, page.body)
	}
	r := fetch(t, nil, s.url+m[1], url.Values{}, ck)
	if r.status != http.StatusSeeOther || r.location() != "/mobile-id" {
		t.Fatalf("Lock mobile ID: status %d, Location %q; want 303 to /mobile-id", r.status, r.header.Get("Location"))
	}
	page = fetch(t, nil, s.url+"/mobile-id", nil, ck)
	if !strings.Contains(page.body, `state-locked`) {
		t.Errorf("after Lock mobile ID the Mobile ID page shows no locked mobile ID:\n%s", page.body)
	}
}

// dataPNG decodes a data: URL of a PNG image.
func dataPNG(t *testing.T, src string) []byte {
	t.Helper()
	b64, ok := strings.CutPrefix(src, "data:image/png;base64,")
	if !ok {
		t.Fatalf("the QR code's source is %.60q…, want a data:image/png;base64 URL", src)
	}
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("the QR code's source is not base64: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("the QR code's image is not a PNG: starts with %q", png[:min(len(png), 8)])
	}
	return png
}

// certRow returns the row of the Mobile ID page's certificate table with
// the given serial, or nil.
func certRow(rows [][]string, serial string) []string {
	for _, r := range rows {
		if len(r) > 1 && strings.EqualFold(strings.ReplaceAll(r[1], ":", ""), serial) {
			return r
		}
	}
	return nil
}

// checkCertRow checks a row (usage, serial, valid from, valid until,
// state, OCSP) of the Mobile ID page against the wallet's certificate:
// the usage, the dates, a validity of two years, valid and good.
func checkCertRow(t *testing.T, usage string, row []string, c appCert) {
	t.Helper()
	if len(row) != 6 {
		t.Errorf("the %s certificate's row has %d cells, want 6: %q", usage, len(row), row)
		return
	}
	cert := c.parse(t)
	if row[0] != usage || row[4] != "valid" || row[5] != "good" {
		t.Errorf("the %s certificate's row is %q, want usage %s, state valid, OCSP good", usage, row, usage)
	}
	from, errFrom := time.Parse(time.DateOnly, row[2])
	until, errUntil := time.Parse(time.DateOnly, row[3])
	if errFrom != nil || errUntil != nil {
		t.Errorf("the %s certificate's row has the dates %q and %q, want YYYY-MM-DD", usage, row[2], row[3])
		return
	}
	if want := cert.NotBefore.UTC().Format(time.DateOnly); row[2] != want {
		t.Errorf("the %s certificate is valid from %s on the page, %s in the certificate", usage, row[2], want)
	}
	if want := cert.NotAfter.UTC().Format(time.DateOnly); row[3] != want {
		t.Errorf("the %s certificate is valid until %s on the page, %s in the certificate", usage, row[3], want)
	}
	// Validity ends one second before the second anniversary, which falls
	// on the day before only when the certificate starts at midnight.
	twoYears := from.AddDate(2, 0, 0)
	startsAtMidnight := cert.NotBefore.UTC().Equal(from)
	if !until.Equal(twoYears) && !(startsAtMidnight && until.Equal(twoYears.AddDate(0, 0, -1))) {
		t.Errorf("the %s certificate is valid from %s until %s, want 2 years (until %s)", usage, row[2], row[3], twoYears.Format(time.DateOnly))
	}
	if d := cert.NotBefore.AddDate(2, 0, 0).Sub(cert.NotAfter); d < 0 || d > time.Second {
		t.Errorf("the %s certificate is valid from %s until %s, want 2 years", usage, cert.NotBefore, cert.NotAfter)
	}
}

// aliceWithEncryption starts a server whose "Get mobile ID" issues
// encryption certificates too, adds alice and logs her in.
func aliceWithEncryption(t *testing.T) (*server, *http.Cookie) {
	t.Helper()
	in, s, pw := serverWithAlice(t)
	enableEncryptionCertificates(t, in)
	return s, mustLogin(t, s.url, "alice", pw)
}
