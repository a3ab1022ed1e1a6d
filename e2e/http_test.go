package e2e_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/testenv"
)

// sessionCookieName is the cookie that carries a login session.
const sessionCookieName = "lanyard_session"

// postgresSchema returns the URL of a fresh PostgreSQL schema, or skips
// the test (fails it in CI) when PostgreSQL is not there.
func postgresSchema(t testing.TB) string {
	t.Helper()
	return testenv.PostgresSchema(t)
}

// response is one HTTP answer, read whole.
type response struct {
	status  int
	header  http.Header
	body    string
	cookies []*http.Cookie
}

// location is where a redirect points, without its query.
func (r response) location() string {
	loc, _, _ := strings.Cut(r.header.Get("Location"), "?")
	return loc
}

// sessionCookie returns the login cookie the answer sets, or nil.
func (r response) sessionCookie() *http.Cookie {
	for _, c := range r.cookies {
		if c.Name == sessionCookieName && c.Value != "" && c.MaxAge >= 0 {
			return c
		}
	}
	return nil
}

// newClient returns a client that does not follow redirects, so tests see
// each answer as it is, and that gives up on a hung server.
func newClient(jar http.CookieJar) *http.Client {
	return &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// follow fetches where the redirect r leads, from base, with cookies and
// the cookies r set (a message for the next page), as a browser does.
func follow(t testing.TB, base string, r response, cookies ...*http.Cookie) response {
	t.Helper()
	return fetch(t, nil, base+r.header.Get("Location"), nil, append(cookies, r.cookies...)...)
}

// fetch sends one request with c (nil: a fresh client without cookies):
// a GET without form, a POST of the form otherwise, with the cookies.
func fetch(t testing.TB, c *http.Client, rawURL string, form url.Values, cookies ...*http.Cookie) response {
	t.Helper()
	if c == nil {
		c = newClient(nil)
	}
	method, body := http.MethodGet, io.Reader(nil)
	if form != nil {
		method, body = http.MethodPost, strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, rawURL, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b), cookies: resp.Cookies()}
}

// login posts the login form of the server at base.
func login(t testing.TB, c *http.Client, base, username, password string) response {
	t.Helper()
	return fetch(t, c, base+"/login", url.Values{"username": {username}, "password": {password}})
}

// mustLogin logs in and returns the session cookie, failing the test
// unless the server answers with a redirect and a cookie.
func mustLogin(t testing.TB, base, username, password string) *http.Cookie {
	t.Helper()
	r := login(t, nil, base, username, password)
	ck := r.sessionCookie()
	if r.status != http.StatusSeeOther || ck == nil {
		t.Fatalf("log in as %s at %s: status %d, cookie %v, want 303 and a %s cookie; body:\n%s",
			username, base, r.status, ck, sessionCookieName, r.body)
	}
	return ck
}
