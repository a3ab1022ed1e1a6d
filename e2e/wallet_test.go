package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// walletPhone is a phone's browser with Lanyard's phone app: a headless
// Chromium of its own (its own storage) with a phone-sized touch screen,
// whose downloads land in a folder of the test.
type walletPhone struct {
	*browser
	downloads string
}

// newWalletPhone starts a phone's browser against the server at base; its
// screenshots' names start with name.
func newWalletPhone(t *testing.T, base, name string, extra ...chromedp.ExecAllocatorOption) *walletPhone {
	t.Helper()
	b := newBrowser(t, base, extra...)
	b.name = name + "-"
	p := &walletPhone{browser: b, downloads: t.TempDir()}
	p.watchViolations()
	b.do("emulate a phone", chromedp.Emulate(device.Pixel5))
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: p.downloads,
	}); err != nil {
		t.Fatalf("let the phone's browser download: %v", err)
	}
	return p
}

// watchViolations fails the test, at its end, for every script error the
// app did not catch and every breach of its Content-Security-Policy or
// Trusted Types that the browser reported.
func (p *walletPhone) watchViolations() {
	var mu sync.Mutex
	var seen []string
	if err := chromedp.Listen(p.ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *cdplog.EventEntryAdded:
			if strings.Contains(e.Entry.Text, "Content Security Policy") || strings.Contains(e.Entry.Text, "Trusted Type") {
				msg = e.Entry.Text
			}
		case *cdpruntime.EventExceptionThrown:
			msg = e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
		}
		if msg != "" {
			mu.Lock()
			seen = append(seen, msg)
			mu.Unlock()
		}
	}); err != nil {
		p.t.Fatalf("listen to the phone's browser: %v", err)
	}
	p.t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range seen {
			p.t.Errorf("the phone's browser reported: %s", m)
		}
	})
}

// installabilityErrors returns why Chromium would not install the page
// shown as an app; none when it would.
func (p *walletPhone) installabilityErrors() []string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, page.GetInstallabilityErrors, cdp.Empty{})
	if err != nil {
		p.t.Fatalf("ask Chromium whether the app can be installed: %v", err)
	}
	var out []string
	for _, e := range res.InstallabilityErrors {
		out = append(out, e.ErrorID)
	}
	return out
}

// screen waits until the app shows the screen of the given name.
func (p *walletPhone) screen(name string) {
	p.t.Helper()
	p.do("wait for the "+name+" screen", chromedp.WaitVisible(chromedp.ID("screen-"+name)))
}

// tab opens a screen through the app's tab bar, as a thumb does.
func (p *walletPhone) tab(label, name string) {
	p.t.Helper()
	p.do("tap the "+label+" tab", chromedp.Click(chromedp.Search(xpathText("//nav//a", label))))
	p.screen(name)
}

// press taps a button of the screen shown.
func (p *walletPhone) press(screen, label string) {
	p.t.Helper()
	p.do("tap "+label, chromedp.Click(chromedp.Search(xpathText(`//section[@id="screen-`+screen+`"]//button`, label))))
}

// waitMessage waits for the app's status (role=status) or error
// (role=alert) message to contain text and returns the whole message.
func (p *walletPhone) waitMessage(role, text string) string {
	p.t.Helper()
	sel := chromedp.Search(`//main/p[@role="` + role + `" and contains(., ` + xpathLiteral(text) + `)]`)
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitVisible(sel)); err != nil {
		p.screenshot("failed")
		got, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.getElementById("notice").innerText + " | " + document.getElementById("alert").innerText`))
		p.t.Fatalf("the app shows no %s message containing %q; it shows %q", role, text, got)
	}
	return p.text(sel)
}

// choose puts a file into a file input, as picking it on the phone does.
func (p *walletPhone) choose(input, file string) {
	p.t.Helper()
	p.do("choose "+filepath.Base(file), chromedp.SetUploadFiles(chromedp.ID(input), []string{file}))
}

// download waits for the browser to save a file of the given name and
// returns its content.
func (p *walletPhone) download(name string) []byte {
	p.t.Helper()
	path := filepath.Join(p.downloads, name)
	var b []byte
	if !waitFor(browserStepTimeout, func() bool {
		var err error
		b, err = os.ReadFile(path)
		return err == nil && len(b) > 0
	}) {
		entries, _ := os.ReadDir(p.downloads)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		p.screenshot("failed")
		p.t.Fatalf("the phone downloaded no %s; its downloads are %q", name, names)
	}
	return b
}

// profileCard is the XPath of the profile card of a profile name.
func profileCard(name string) string {
	return `//article[contains(@class,"profile")][h2[normalize-space()=` + xpathLiteral(name) + `]]`
}

// waitProfile waits until the profiles screen shows the profile in the
// given state.
func (p *walletPhone) waitProfile(name, state string) {
	p.t.Helper()
	p.do("wait for "+name+" "+state,
		chromedp.WaitVisible(chromedp.Search(profileCard(name)+`//dd[contains(@class,"state") and normalize-space()=`+xpathLiteral(state)+`]`)))
}

// xpathLiteral quotes text for an XPath expression.
func xpathLiteral(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return `'` + s + `'`
}

// storedProfile is what the app keeps of a profile, as the page reads it
// back from IndexedDB.
type storedProfile struct {
	MobileID       string   `json:"mobileID"`
	ProfileName    string   `json:"profileName"`
	State          string   `json:"state"`
	DeviceName     string   `json:"deviceName"`
	EncryptionPEMs []string `json:"encryptionPEMs"`
	Recovered      []bool   `json:"recovered"`
}

// storedProfiles reads the app's profiles from its IndexedDB, in the page.
func (p *walletPhone) storedProfiles() []storedProfile {
	p.t.Helper()
	js := `new Promise((resolve, reject) => {
		const req = indexedDB.open("lanyard-wallet");
		req.onerror = () => reject(req.error);
		req.onsuccess = () => {
			const db = req.result;
			if (!db.objectStoreNames.contains("profiles")) { resolve([]); return; }
			const all = db.transaction("profiles").objectStore("profiles").getAll();
			all.onerror = () => reject(all.error);
			all.onsuccess = () => resolve(all.result.map((r) => {
				const pem = (der) => "-----BEGIN CERTIFICATE-----\n" + btoa(String.fromCharCode(...der)).match(/.{1,64}/g).join("\n") + "\n-----END CERTIFICATE-----\n";
				return {mobileID: r.mobileID, profileName: r.profileName, state: r.state, deviceName: r.deviceName,
					encryptionPEMs: r.encryptionKeys.map((k) => pem(k.der)), recovered: r.encryptionKeys.map((k) => k.recovered)};
			}));
		};
	})`
	return step(p.browser, "read the app's profiles", chromedp.Evaluate[[]storedProfile](js, chromedp.EvalAwaitPromise))
}

// storageAudit is what a search of everything the app stored found.
type storageAudit struct {
	Keys          int      `json:"keys"`          // CryptoKeys stored
	PrivateKeys   int      `json:"privateKeys"`   // of them private or secret
	Extractable   []string `json:"extractable"`   // paths of private or secret keys that can be exported
	KeyMaterial   []string `json:"keyMaterial"`   // paths of strings that look like a key (PEM or JWK)
	LocalStorage  []string `json:"localStorage"`  // every localStorage entry, "key=value"
	SessionItems  int      `json:"sessionItems"`  // sessionStorage entries
	CachedURLs    []string `json:"cachedURLs"`    // every URL in the Cache Storage
	CachedBodies  []string `json:"cachedBodies"`  // the text of every cached answer
	Location      string   `json:"location"`      // the page's address
	Registrations int      `json:"registrations"` // service workers registered
}

// auditStorage walks every value the app keeps in IndexedDB, and reads
// localStorage, sessionStorage and the Cache Storage, from the page.
func (p *walletPhone) auditStorage() storageAudit {
	p.t.Helper()
	js := `(async () => {
		const out = {keys: 0, privateKeys: 0, extractable: [], keyMaterial: [], localStorage: [], sessionItems: sessionStorage.length,
			cachedURLs: [], cachedBodies: [], location: location.href, registrations: (await navigator.serviceWorker.getRegistrations()).length};
		const walk = (v, path) => {
			if (v instanceof CryptoKey) {
				out.keys++;
				if (v.type !== "public") { out.privateKeys++; if (v.extractable) out.extractable.push(path); }
				return;
			}
			if (typeof v === "string") {
				if (/PRIVATE KEY|"d"\s*:|"kty"/.test(v)) out.keyMaterial.push(path);
				return;
			}
			if (v === null || typeof v !== "object" || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return;
			for (const [k, x] of Object.entries(v)) walk(x, path + "." + k);
		};
		const dbs = await indexedDB.databases();
		for (const {name} of dbs) {
			const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
			for (const store of db.objectStoreNames) {
				const all = await new Promise((res, rej) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
				all.forEach((v, i) => walk(v, name + "/" + store + "[" + i + "]"));
			}
			db.close();
		}
		for (let i = 0; i < localStorage.length; i++) { const k = localStorage.key(i); out.localStorage.push(k + "=" + localStorage.getItem(k)); }
		for (const name of await caches.keys()) {
			const cache = await caches.open(name);
			for (const req of await cache.keys()) {
				out.cachedURLs.push(req.url);
				out.cachedBodies.push(await (await cache.match(req)).text());
			}
		}
		return out;
	})()`
	return step(p.browser, "search the app's storage", chromedp.Evaluate[storageAudit](js, chromedp.EvalAwaitPromise))
}

// decodeQR returns the text of the QR code in a PNG image, read as the
// reference app reads one.
func decodeQR(t *testing.T, pngData []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatalf("the QR code is not a PNG: %v", err)
	}
	text, err := appclient.ScanQR(img)
	if err != nil {
		t.Fatalf("the QR code cannot be read: %v", err)
	}
	return text
}

// cameraVideo makes a video file for Chromium's fake camera that shows
// the image for a few seconds, with ffmpeg.
func cameraVideo(t *testing.T, pngFile string) string {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		testenv.Unavailable(t, "ffmpeg: not on the PATH")
	}
	out := filepath.Join(t.TempDir(), "camera.y4m")
	cmd := exec.Command(ffmpeg, "-loglevel", "error", "-loop", "1", "-i", pngFile, "-t", "2", "-r", "10",
		"-vf", "scale=480:480:flags=neighbor,pad=640:480:80:0:white,format=yuv420p", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	return out
}

// fakeCamera is the Chromium options of a camera that films the video,
// with the permission to use it granted.
func fakeCamera(video string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video),
	}
}

// gpgsmVerify checks a detached signature of a file with GnuPG's gpgsm,
// trusting the chain's root, in a GnuPG home of its own. CRL and policy
// checks are off: gpgsm would fetch CRLs through dirmngr, which the test
// does not run; openssl checks revocation elsewhere.
func gpgsmVerify(t *testing.T, chainPEM, file, sig string) {
	t.Helper()
	gpgsm, err := exec.LookPath("gpgsm")
	if err != nil {
		testenv.Unavailable(t, "gpgsm: not on the PATH")
	}
	home, err := os.MkdirTemp("", "gpgsm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	chain, err := os.ReadFile(chainPEM)
	if err != nil {
		t.Fatal(err)
	}
	var root *x509.Certificate
	for rest := chain; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(c.RawSubject, c.RawIssuer) {
			root = c
		}
	}
	if root == nil {
		t.Fatalf("the chain %s has no root", chainPEM)
	}
	sum := sha1.Sum(root.Raw)
	fp := strings.ToUpper(hex.EncodeToString(sum[:]))
	writeFile(t, home, "gpgsm.conf", "disable-crl-checks\ndisable-policy-checks\n")
	writeFile(t, home, "trustlist.txt", fp+" S relax\n")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(gpgsm, append([]string{"--batch", "--status-fd", "1"}, args...)...)
		cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("gpgsm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("--import", chainPEM)
	if out := run("--verify", sig, file); !strings.Contains(out, "[GNUPG:] GOODSIG") || !strings.Contains(out, "[GNUPG:] TRUST_FULLY") {
		t.Errorf("gpgsm --verify does not find a good, trusted signature:\n%s", out)
	}
}

// serverWithAlice starts a server on SQLite with the user alice and
// returns it, with her password.
func serverWithAlice(t *testing.T) (instance, *server, string) {
	t.Helper()
	in := newInstance(t, "sqlite")
	s := startServer(t, in)
	s.waitReady()
	pw := "alice-" + randomText()
	addUser(t, in, "alice", pw)
	return in, s, pw
}
