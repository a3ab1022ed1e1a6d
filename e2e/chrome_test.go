package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/lanyard-id/lanyard/internal/testenv"
)

// Bounds of the browser: its start, and each step a user takes.
const (
	browserStartTimeout = 30 * time.Second
	browserStepTimeout  = 10 * time.Second
)

// chromiumPath returns the Chromium binary: LANYARD_CHROMIUM, Debian's
// /usr/bin/chromium, or chromium on the PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("LANYARD_CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Unavailable(t, "chromium: not at /usr/bin/chromium nor on the PATH")
	}
	return p
}

// browser is one headless Chromium with a fresh profile, driven as a user
// drives it, that saves a screenshot of each page it is asked to.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string // the server's URL
	shots string // the screenshot folder
	name  string // who the browser is, in its screenshots' names
	n     int    // screenshots taken so far
}

// newBrowser starts Chromium for a test against the server at base, with
// any further options. It is closed when the test ends.
func newBrowser(t *testing.T, base string, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	// Registered after t.TempDir, so it runs first: the browser has
	// exited before its profile folder is removed.
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first call starts the browser and ties it to ctx, so it has no
	// timeout of its own; the select bounds it instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start Chromium: %v", err)
		}
	case <-time.After(browserStartTimeout):
		cancel()
		t.Fatalf("Chromium did not start within %s", browserStartTimeout)
	}
	return &browser{t: t, ctx: ctx, base: base, shots: screenshotDir(t)}
}

// screenshotDirs are the folders screenshotDir has emptied in this run.
var screenshotDirs sync.Map

// screenshotDir returns an empty folder for the screenshots of the test:
// $LANYARD_SCREENSHOTS/<test>, or lanyard-screenshots/<test> in the
// system's temporary folder. It is kept after the test, to be looked at.
func screenshotDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("LANYARD_SCREENSHOTS")
	if root == "" {
		root = filepath.Join(os.TempDir(), "lanyard-screenshots")
	}
	dir := filepath.Join(root, strings.ReplaceAll(t.Name(), "/", "_"))
	// A test with several browsers (a desktop and a phone) shares the
	// folder: only the first empties it.
	if _, seen := screenshotDirs.LoadOrStore(dir, true); seen {
		return dir
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// step runs a bounded action; on failure it saves a screenshot of the
// page as it is and fails the test.
func step[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.screenshot("failed")
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// do runs bounded steps that return nothing, in order.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	step(b, what, chromedp.Steps(actions...))
}

// open loads a path of the server and waits for the page.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
}

// submit clicks a button or link that loads a new page, waits for that
// page and returns its HTTP status (after redirects).
func (b *browser) submit(what string, sel chromedp.Search) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
	if err != nil {
		b.screenshot("failed")
		b.t.Fatalf("%s: %v", what, err)
	}
	return resp.Status
}

// waitHeading waits until the page's main heading is text.
func (b *browser) waitHeading(text string) {
	b.t.Helper()
	b.do(fmt.Sprintf("wait for the heading %q", text), chromedp.WaitVisible(chromedp.Search(xpathText("//main//h1", text))))
}

// path returns the path of the page shown, with its query.
func (b *browser) path() string {
	b.t.Helper()
	loc := step(b, "read the location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatalf("location %q: %v", loc, err)
	}
	return u.RequestURI()
}

// text returns the visible text of the first element sel finds.
func (b *browser) text(sel chromedp.Search) string {
	b.t.Helper()
	return step(b, "read "+string(sel), chromedp.Text(sel))
}

// screenshot saves the whole page as NN-name.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	b.n++
	p := filepath.Join(b.shots, fmt.Sprintf("%s%02d-%s.png", b.name, b.n, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
}

// sessionCookie returns the browser's login cookie for the server, or nil.
func (b *browser) sessionCookie() *network.Cookie {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/"}})
	if err != nil {
		b.t.Fatalf("read cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == sessionCookieName {
			return c
		}
	}
	return nil
}

// fillLogin types a username and password into the login form, as a user
// does, and submits it. It returns the HTTP status of the page it leads to.
func (b *browser) fillLogin(username, password string) int64 {
	b.t.Helper()
	b.do("fill in the login form",
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password),
	)
	return b.submit("submit the login form", chromedp.Search(`//form[@action="/login"]//button[@type="submit"]`))
}

// xpathText is an XPath for the elements at path whose text, with white
// space normalized, is text.
func xpathText(path, text string) string {
	return fmt.Sprintf(`%s[normalize-space()=%q]`, path, text)
}

// texts returns the visible text of every element the XPath finds, in
// document order; none is an empty slice.
func (b *browser) texts(xpath string) []string {
	b.t.Helper()
	q, err := json.Marshal(xpath)
	if err != nil {
		b.t.Fatal(err)
	}
	js := fmt.Sprintf(`(() => {
		const r = document.evaluate(%s, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
		const out = [];
		for (let i = 0; i < r.snapshotLength; i++) out.push(r.snapshotItem(i).innerText);
		return out;
	})()`, q)
	return step(b, "read "+xpath, chromedp.Evaluate[[]string](js))
}

// value returns the current value of a form field.
func (b *browser) value(sel chromedp.ID) string {
	b.t.Helper()
	return step(b, "read the value of #"+string(sel), chromedp.Value(sel))
}

// setValue replaces the value of a form field, as pasting into it does.
func (b *browser) setValue(sel chromedp.ID, v string) {
	b.t.Helper()
	b.do("fill in #"+string(sel), chromedp.SetValue(sel, v))
}

// notice returns the page's status message, the text of the first
// role=status paragraph in main.
func (b *browser) notice() string {
	b.t.Helper()
	return b.text(chromedp.Search(`//main//p[@role="status"]`))
}

// alert returns the page's error message, the text of the first
// role=alert paragraph in main.
func (b *browser) alert() string {
	b.t.Helper()
	return b.text(chromedp.Search(`//main//p[@role="alert"]`))
}

// rows returns the cells of every table row the XPath finds, each cell's
// visible text with white space trimmed.
func (b *browser) rows(xpath string) [][]string {
	b.t.Helper()
	q, err := json.Marshal(xpath)
	if err != nil {
		b.t.Fatal(err)
	}
	js := fmt.Sprintf(`(() => {
		const r = document.evaluate(%s, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
		const out = [];
		for (let i = 0; i < r.snapshotLength; i++) out.push(Array.from(r.snapshotItem(i).cells, c => c.innerText.trim()));
		return out;
	})()`, q)
	return step(b, "read the rows "+xpath, chromedp.Evaluate[[][]string](js))
}
