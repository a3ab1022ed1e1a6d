package e2e_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestClusterGetMobileID runs "Get mobile ID" across two instances of one
// cluster on PostgreSQL: the QR code is shown by A, the phone enrolls
// with B, Next is pressed on A, the Mobile ID page on B shows the result,
// and B's OCSP responder vouches for certificates both share. Then the
// lock on B is seen by A's OCSP responder at once.
func TestClusterGetMobileID(t *testing.T) {
	in, a, b := startCluster(t)
	pw := "alice-" + randomText()
	addUser(t, in, "alice", pw)
	ck := mustLogin(t, a.url, "alice", pw)

	start := fetch(t, nil, a.url+"/mobile-id/get", url.Values{"action": {"next"}}, ck)
	if start.status != http.StatusSeeOther {
		t.Fatalf("Next on A: status %d", start.status)
	}
	page := fetch(t, nil, a.url+start.location(), nil, ck)
	m := enrollLink.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("A's activation page shows no link:\n%s", page.body)
	}
	link := html.UnescapeString(m[1])
	onB := strings.Replace(link, a.url, b.url, 1)
	if onB == link {
		t.Fatalf("the link %q does not name A's address %s", link, a.url)
	}
	p := newPhone(t)
	if name := p.enroll(onB); name != aliceProfile {
		t.Fatalf("enroll with B printed %q", name)
	}
	finish := fetch(t, nil, a.url+start.location()+"/finish", url.Values{}, ck)
	if finish.status != http.StatusSeeOther || !saysActive(t, b.url, ck, finish) {
		t.Fatalf("Next on A after enrolling with B: %d %q", finish.status, finish.header.Get("Location"))
	}
	onPage := fetch(t, nil, b.url+"/mobile-id", nil, ck)
	if !strings.Contains(onPage.body, aliceProfile) || !strings.Contains(onPage.body, "state-active") {
		t.Fatalf("B's Mobile ID page does not show the active mobile ID:\n%s", onPage.body)
	}
	sig := p.profile(aliceProfile).cert(t, "signature")
	if got := newRelyingParty(t, b).ocsp("signature", sig.PEM); got != "good" {
		t.Fatalf("B's OCSP says %q for a certificate A's process issued", got)
	}
	lockMobileIDOverHTTP(t, b, ck)
	if got := newRelyingParty(t, a).ocsp("signature", sig.PEM); got != "revoked" {
		t.Fatalf("A's OCSP says %q after the lock on B", got)
	}
}
