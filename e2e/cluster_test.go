package e2e_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// TestClusterSharedSession runs two serve processes on one PostgreSQL
// schema, started together on a fresh database, and shows that they form
// one cluster: a login on one is valid on the other, and a logout on one
// ends it on both.
func TestClusterSharedSession(t *testing.T) {
	in, a, b := startCluster(t)

	pw := "alice-" + randomText()
	addUser(t, in, "alice", pw)

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(jar)
	r := login(t, client, a.url, "alice", pw)
	if r.status != http.StatusSeeOther || r.location() != "/" {
		t.Fatalf("log in on A: status %d, Location %q, want 303 to /; body:\n%s", r.status, r.header.Get("Location"), r.body)
	}
	aURL, _ := url.Parse(a.url)
	var cookie *http.Cookie
	for _, c := range jar.Cookies(aURL) {
		if c.Name == sessionCookieName {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatalf("log in on A set no %s cookie", sessionCookieName)
	}
	if r := fetch(t, client, a.url+"/", nil); r.status != http.StatusOK || !strings.Contains(r.body, "What do you want to do?") {
		t.Fatalf("dashboard on A after login: status %d, want 200 with the dashboard", r.status)
	}

	// The cookie from A, sent by hand to B.
	r = fetch(t, nil, b.url+"/", nil, cookie)
	if r.status != http.StatusOK || !strings.Contains(r.body, "What do you want to do?") {
		t.Fatalf("dashboard on B with A's cookie: status %d (Location %q), want 200 with \"What do you want to do?\"",
			r.status, r.header.Get("Location"))
	}

	r = fetch(t, nil, b.url+"/logout", url.Values{}, cookie)
	if r.status != http.StatusSeeOther || r.location() != "/login" {
		t.Fatalf("log out on B: status %d, Location %q, want 303 to /login", r.status, r.header.Get("Location"))
	}
	r = fetch(t, nil, a.url+"/", nil, cookie)
	if r.status != http.StatusSeeOther || r.location() != "/login" {
		t.Errorf("dashboard on A after logout on B: status %d, Location %q, want 303 to /login", r.status, r.header.Get("Location"))
	}

	// Whichever instance printed the password, it is the password of the
	// one administrator both instances know.
	printed := func() []string {
		return append(adminPasswordLines(a.stdout.String()), adminPasswordLines(b.stdout.String())...)
	}
	if !waitFor(readyTimeout, func() bool { return len(printed()) > 0 }) {
		t.Fatalf("neither instance printed the admin password\nA stdout: %q\nB stdout: %q", a.stdout, b.stdout)
	}
	adminPW := strings.TrimPrefix(printed()[0], "initial admin password: ")
	for _, s := range []*server{a, b} {
		r := login(t, nil, s.url, "admin", adminPW)
		if r.status != http.StatusSeeOther || r.location() != "/password" {
			t.Errorf("log in as admin on %s with the printed password: status %d, Location %q, want 303 to /password",
				s.name, r.status, r.header.Get("Location"))
		}
	}

	a.stopOK()
	b.stopOK()
	// Read once both have exited, when their output is complete.
	lines := append(adminPasswordLines(a.stdout.String()), adminPasswordLines(b.stdout.String())...)
	if len(lines) != 1 {
		t.Errorf("the two instances printed %d admin password lines, want exactly 1\nA stdout: %q\nB stdout: %q",
			len(lines), a.stdout, b.stdout)
	}
}

// startCluster starts two serve processes on one fresh PostgreSQL schema.
// Both start at once on the empty schema, so both migrate and both look
// for the administrator at the same time.
func startCluster(t *testing.T) (instance, *server, *server) {
	t.Helper()
	in := newInstance(t, "postgres")
	a := startServer(t, in)
	b := startServer(t, in)
	a.waitReady()
	b.waitReady()
	return in, a, b
}
