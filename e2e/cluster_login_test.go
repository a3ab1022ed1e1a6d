package e2e_test

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/appclient"
)

var loginMatch = regexp.MustCompile(`<output name="match">([0-9]{2})</output>`)

// TestClusterLoginWithMobileID: two instances on one PostgreSQL database,
// one public URL. A browser asks instance A to log in with the mobile ID;
// the phone fetches the request and approves it at instance B; A is killed,
// and B's waiting page turns the approval into one session.
func TestClusterLoginWithMobileID(t *testing.T) {
	in := newInstance(t, "postgres")
	a := startServer(t, in)
	b := startServer(t, in, "--public-url", a.url)
	a.waitReady()
	b.waitReady()
	pw := "alice-" + randomText()
	addUser(t, in, "alice", pw)
	ctx := context.Background()

	// A phone enrolls at B with the code A shows.
	_, link := startGetMobileIDOverHTTP(t, a, mustLogin(t, a.url, "alice", pw), "next")
	_, code, err := appclient.ParseEnrollmentLink(link)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	auth, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	transport, _ := ecdh.X25519().GenerateKey(rand.Reader)
	req, err := appclient.NewEnrollRequest(code, "cluster phone", sig, auth, transport.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	atB := &appclient.Client{BaseURL: b.url}
	enrolled, err := atB.Enroll(ctx, req)
	if err != nil {
		t.Fatalf("enroll at B: %v", err)
	}

	// The browser asks A.
	jar, _ := cookiejar.New(nil)
	browser := newClient(jar)
	start := fetch(t, browser, a.url+"/login/mobile-id", url.Values{"next": {"/"}})
	wait := start.header.Get("Location")
	if start.status != http.StatusSeeOther || !strings.HasPrefix(wait, "/login/mobile-id/") {
		t.Fatalf("Log in with mobile ID at A: %d %q", start.status, wait)
	}
	page := fetch(t, browser, a.url+wait, nil)
	m, l := loginMatch.FindStringSubmatch(page.body), enrollLink.FindStringSubmatch(page.body)
	if page.status != http.StatusOK || m == nil || l == nil {
		t.Fatalf("A's waiting page: %d\n%s", page.status, page.body)
	}
	base, token, err := appclient.ParseLoginLink(html.UnescapeString(l[1]))
	if err != nil || base != a.url {
		t.Fatalf("the login link %q: base %q, %v", l[1], base, err)
	}

	// The phone fetches and approves it at B, signing the cluster's origin.
	info, err := atB.LoginInfo(ctx, token)
	if err != nil {
		t.Fatalf("login info at B: %v", err)
	}
	origin := appclient.Origin(a.url)
	if info.Origin != origin {
		t.Fatalf("B gives the origin %q, want the cluster's %q", info.Origin, origin)
	}
	digest := sha256.Sum256(appclient.LoginPayload(origin, info.RequestID, info.Challenge, appclient.DecisionApprove, m[1]))
	signature, _ := auth.Sign(rand.Reader, digest[:], crypto.SHA256)
	answered, err := atB.SendLoginAnswer(ctx, appclient.LoginAnswer{
		Request: token, MobileID: enrolled.MobileID, Decision: appclient.DecisionApprove, Match: m[1], Signature: signature,
	})
	if err != nil || answered.State != "approved" {
		t.Fatalf("approve at B: %+v %v", answered, err)
	}

	// A dies at once (SIGKILL); the approval is the database's, so B's
	// waiting page logs the browser in, and the session works on B.
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.done
	done := fetch(t, browser, b.url+wait, nil)
	if done.status != http.StatusSeeOther || done.header.Get("Location") != "/" {
		t.Fatalf("B's waiting page after the approval: %d %q", done.status, done.header.Get("Location"))
	}
	session := done.sessionCookie()
	if session == nil {
		t.Fatal("the approval set no session cookie")
	}
	if home := fetch(t, nil, b.url+"/", nil, session); home.status != http.StatusOK || !strings.Contains(home.body, "Alice Example") {
		t.Errorf("the dashboard at B with the session: %d", home.status)
	}
	// The approval made one session: the waiting page's cookie, replayed, makes no other.
	if again := fetch(t, browser, b.url+wait, nil); again.status == http.StatusSeeOther || again.sessionCookie() != nil {
		t.Errorf("the waiting page once more: %d, cookie %v; want no second session", again.status, again.sessionCookie())
	}
}
