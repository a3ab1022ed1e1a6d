package e2e_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserOperatorSupplies is an operator's day in the browser: find a
// user, supply a mobile ID (the QR code goes by email), see it waiting for
// the app, and lock it.
func TestBrowserOperatorSupplies(t *testing.T) {
	in := newInstance(t, "sqlite")
	s := startServer(t, in)
	s.waitReady()
	pw := "olga-" + randomText()
	addUser(t, in, "olga", pw, "--role", "operator")
	addUser(t, in, "alice", "alice-"+randomText())
	b := newBrowser(t, s.url)

	b.open("/login")
	b.fillLogin("olga", pw)
	b.waitHeading("What do you want to do?")
	b.submit("open Operator from the menu", chromedp.Search(xpathText(`//nav[@aria-label="Main menu"]//a`, "Operator")))
	b.waitHeading("Operator")
	b.do("search for alice", chromedp.SendKeys(chromedp.ID("q"), "ali"))
	b.submit("search", chromedp.Search(`//form[@action="/operator"]//button[@type="submit"]`))
	b.screenshot("search")

	b.submit("open alice", chromedp.Search(`//main//a[@href="/operator/users/alice"]`))
	b.waitHeading("Alice Example")
	b.screenshot("user")
	b.submit("supply a mobile ID", chromedp.Search(xpathText(`//main//button`, "Supply mobile ID")))
	b.waitHeading("Alice Example")
	if got := b.notice(); !strings.Contains(got, "the QR code was sent to alice@example.com") {
		t.Fatalf("after Supply mobile ID the page says %q", got)
	}
	if got := b.text(chromedp.Search(`//main//section[h3]`)); !strings.Contains(got, "registered") || !strings.Contains(got, "waiting for the app") {
		t.Errorf("the supplied mobile ID is not shown waiting for the app: %q", got)
	}
	b.screenshot("supplied")

	b.submit("lock it", chromedp.Search(xpathText(`//main//button`, "Lock mobile ID")))
	b.waitHeading("Alice Example")
	if got := b.notice(); !strings.Contains(got, "locked") {
		t.Errorf("after Lock mobile ID the page says %q", got)
	}
	if got := b.text(chromedp.Search(`//main//section[h3]`)); !strings.Contains(got, "locked") {
		t.Errorf("the mobile ID is not shown locked: %q", got)
	}
	b.screenshot("locked")
}
