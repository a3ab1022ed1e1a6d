package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
)

// maxPage bounds the bytes read of one answer; no page of the portal is
// near it.
const maxPage = 4 << 20

// session is one user's browser: a cookie jar, and redirects left to the
// caller, who checks where each one leads.
type session struct {
	username string
	base     string // the base URL, also the Origin of every form
	client   *http.Client
}

func newSession(base, username string, tr http.RoundTripper, cfg Config) *session {
	jar, _ := cookiejar.New(nil)
	return &session{username: username, base: base, client: &http.Client{
		Transport: tr, Jar: jar, Timeout: cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is one answer of the portal.
type page struct {
	status   int
	location string // the Location header of a redirect
	body     string
}

// get loads a page.
func (s *session) get(ctx context.Context, path string) (*page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	if err != nil {
		return nil, err
	}
	return s.do(req)
}

// post submits a form as a browser on the portal's own page does, with
// the Origin that the server's cross-origin protection expects.
func (s *session) post(ctx context.Context, path string, form url.Values) (*page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin(s.base))
	return s.do(req)
}

func (s *session) do(req *http.Request) (*page, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", req.URL.Path, err)
	}
	return &page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(b)}, nil
}

// login logs the user in and checks that the session cookie is sent back,
// which fails when the server sets Secure cookies and the URL is http.
func (s *session) login(ctx context.Context, password string) error {
	p, err := s.post(ctx, "/login", url.Values{"username": {s.username}, "password": {password}})
	if err != nil {
		return fmt.Errorf("log in as %s: %w", s.username, err)
	}
	switch {
	case p.status == http.StatusUnauthorized:
		return fmt.Errorf("log in as %s: wrong username or password (create the users first)", s.username)
	case p.status != http.StatusSeeOther:
		return fmt.Errorf("log in as %s: status %d", s.username, p.status)
	case p.location == "/password":
		return fmt.Errorf("log in as %s: the user must change the password first", s.username)
	}
	p, err = s.get(ctx, "/mobile-id/get")
	if err != nil {
		return fmt.Errorf("log in as %s: %w", s.username, err)
	}
	if p.status != http.StatusOK {
		return fmt.Errorf("log in as %s: the Get mobile ID page answers %d after login (Secure cookies over http?)", s.username, p.status)
	}
	return nil
}

// origin is the scheme and host of a base URL, without its path.
func origin(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	return u.Scheme + "://" + u.Host
}
