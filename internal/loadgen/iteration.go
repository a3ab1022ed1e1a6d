package loadgen

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/lanyard-id/lanyard/appclient"
)

var (
	linkRE  = regexp.MustCompile(`<code class="link">([^<]+)</code>`)
	usageRE = regexp.MustCompile(`name="usage" value="([^"]+)" checked`)
)

// stepError is a failed iteration: the step it failed at, and a short
// reason by which failures are counted.
type stepError struct {
	step, reason string
	err          error // the detail, shown once per kind
}

// Error is also the kind failures are counted by.
func (e *stepError) Error() string { return e.step + ": " + e.reason }

// fail wraps a failed request or an unexpected answer at step.
func fail(step string, p *page, err error) *stepError {
	if err != nil {
		return &stepError{step, "request failed", err}
	}
	return &stepError{step, fmt.Sprintf("status %d", p.status), fmt.Errorf("status %d, location %q", p.status, p.location)}
}

// getMobileID makes one mobile ID for the session's user, as the user and
// the phone would: the introduction (locking the active mobile ID when
// there is one, which it reports), the activation page, the enrollment,
// and Next.
func (d *Driver) getMobileID(ctx context.Context, s *session) (replaced bool, _ error) {
	p, err := s.get(ctx, "/mobile-id/get")
	if err != nil || p.status != http.StatusOK {
		return false, fail("intro", p, err)
	}
	form := url.Values{"action": {"next"}}
	if replaced = strings.Contains(p.body, `name="action" value="lock"`); replaced {
		form.Set("action", "lock")
	}
	for _, m := range usageRE.FindAllStringSubmatch(p.body, -1) {
		form.Add("usage", html.UnescapeString(m[1]))
	}
	p, err = s.post(ctx, "/mobile-id/get", form)
	if err != nil || p.status != http.StatusSeeOther {
		return replaced, fail("start", p, err)
	}
	process, refusal, _ := strings.Cut(p.location, "?")
	if !strings.HasPrefix(process, "/mobile-id/get/") || refusal != "" {
		q, _ := url.ParseQuery(refusal)
		return replaced, &stepError{"start", "refused", errors.New(q.Get("error"))}
	}
	p, err = s.get(ctx, process)
	if err != nil || p.status != http.StatusOK {
		return replaced, fail("activation", p, err)
	}
	m := linkRE.FindStringSubmatch(p.body)
	if m == nil {
		return replaced, &stepError{"activation", "no enrollment link", errors.New("the page shows no link: the options must show the QR code on screen, with no recovery step")}
	}
	if err := d.enroll(ctx, html.UnescapeString(m[1])); err != nil {
		return replaced, err
	}
	p, err = s.post(ctx, process+"/finish", nil)
	if err != nil || p.status != http.StatusSeeOther || strings.Split(p.location, "?")[0] != "/mobile-id" {
		return replaced, fail("finish", p, err)
	}
	return replaced, nil
}

// enroll activates the code of link with new keys, as the app does. The
// request goes to the run's URL, whatever base the link names, so that the
// load stays on the server it was aimed at.
func (d *Driver) enroll(ctx context.Context, link string) error {
	_, code, err := appclient.ParseEnrollmentLink(link)
	if err != nil {
		return &stepError{"enroll", "bad link", err}
	}
	req, err := newEnrollRequest(code)
	if err != nil {
		return &stepError{"enroll", "keys", err}
	}
	resp, err := d.app.Enroll(ctx, req)
	var ae *appclient.APIError
	switch {
	case errors.As(err, &ae):
		return &stepError{"enroll", ae.Code, err}
	case err != nil:
		return &stepError{"enroll", "request failed", err}
	case resp.State != "active":
		return &stepError{"enroll", "state " + resp.State, errors.New("the mobile ID is not active after enrollment")}
	}
	return nil
}

// newEnrollRequest makes a phone's keys: P-256 signature and
// authentication keys with their certificate requests, and an X25519
// transport key.
func newEnrollRequest(code string) (appclient.EnrollRequest, error) {
	var keys [2]*ecdsa.PrivateKey
	for i := range keys {
		var err error
		if keys[i], err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return appclient.EnrollRequest{}, err
		}
	}
	transport, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return appclient.EnrollRequest{}, err
	}
	return appclient.NewEnrollRequest(code, "lanyard bench", keys[0], keys[1], transport.PublicKey())
}
