package pki_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"golang.org/x/crypto/ocsp"
)

// TestOCSPPreSigned checks the pre-signed OCSP responses on two instances
// of one CA on one database: an unchanged status gets the same response
// with HTTP validators that match it, every status change made on either
// instance shows in the very next response of that instance and in the
// other's as soon as the database has told it (milliseconds), and a
// response is signed afresh at half its validity.
func TestOCSPPreSigned(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := newTestClock(time.Now().UTC().Truncate(time.Second))
		clock := clk.Now
		e := newEnv(t, dsn, pki.Config{Now: clock})
		other := e.openInstance(t, dsn, clock)
		c, _ := e.issue(t, e.alice, lanyard.UsageSignature)
		der, err := ocsp.CreateRequest(mustParse(t, c.DER), e.ca.Issuer(), nil)
		if err != nil {
			t.Fatal(err)
		}
		instances := map[string]http.Handler{"A": e.ca.Handler(), "B": other.Handler()}
		// ask sends the request to every instance by GET and checks that
		// they agree on the status: the instance that made a change (by
		// is its name) at once, the other once the database has told it,
		// which takes milliseconds.
		ask := func(t *testing.T, want int, by string) map[string]*httptest.ResponseRecorder {
			t.Helper()
			out := map[string]*httptest.ResponseRecorder{}
			for name, h := range instances {
				for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
					w := ocspGet(h, der, "")
					resp, err := ocsp.ParseResponse(w.Body.Bytes(), e.ca.Issuer())
					if w.Code != http.StatusOK || err != nil {
						t.Fatalf("%s: %d %v", name, w.Code, err)
					}
					if resp.Status != want && (name == by || time.Now().After(deadline)) {
						t.Fatalf("%s says %d, want %d", name, resp.Status, want)
					} else if resp.Status != want {
						continue
					}
					checkHeaders(t, name, w, resp, clk.Now())
					out[name] = w
					break
				}
			}
			return out
		}

		first := ask(t, ocsp.Good, "")
		clk.Set(clk.Now().Add(time.Minute))
		again := ask(t, ocsp.Good, "")
		for name, w := range again {
			if !bytes.Equal(w.Body.Bytes(), first[name].Body.Bytes()) || w.Header().Get("ETag") != first[name].Header().Get("ETag") {
				t.Errorf("%s signed a new response for an unchanged status", name)
			}
			if nm := ocspGet(instances[name], der, w.Header().Get("ETag")); nm.Code != http.StatusNotModified || nm.Body.Len() != 0 {
				t.Errorf("%s: If-None-Match gives %d with %d bytes", name, nm.Code, nm.Body.Len())
			}
		}

		for _, step := range []struct {
			name   string
			by     string
			change func() error
			want   int
			reason int
		}{
			{"hold on A", "A", func() error { _, err := e.ca.HoldCertificate(ctx, actor, c.Serial); return err }, ocsp.Revoked, ocsp.CertificateHold},
			{"release on B", "B", func() error { _, err := other.ReleaseCertificate(ctx, actor, c.Serial); return err }, ocsp.Good, 0},
			{"revoke on B", "B", func() error {
				_, err := other.RevokeCertificate(ctx, actor, c.Serial, lanyard.ReasonKeyCompromise)
				return err
			}, ocsp.Revoked, ocsp.KeyCompromise},
		} {
			t.Run(step.name, func(t *testing.T) {
				if err := step.change(); err != nil {
					t.Fatal(err)
				}
				for name, w := range ask(t, step.want, step.by) {
					resp, _ := ocsp.ParseResponse(w.Body.Bytes(), e.ca.Issuer())
					if step.want == ocsp.Revoked && resp.RevocationReason != step.reason {
						t.Errorf("%s: reason %d, want %d", name, resp.RevocationReason, step.reason)
					}
				}
			})
		}

		// Just before half its validity a response is served as it is;
		// at half its validity it is signed afresh.
		before := ask(t, ocsp.Revoked, "")["A"]
		signed, _ := ocsp.ParseResponse(before.Body.Bytes(), e.ca.Issuer())
		half := signed.NextUpdate.Sub(signed.ThisUpdate) / 2
		clk.Set(signed.ThisUpdate.Add(half - time.Second))
		if w := ask(t, ocsp.Revoked, "")["A"]; !bytes.Equal(w.Body.Bytes(), before.Body.Bytes()) {
			t.Error("a response younger than half its validity was signed afresh")
		}
		clk.Set(signed.ThisUpdate.Add(half))
		w := ask(t, ocsp.Revoked, "")["A"]
		fresh, _ := ocsp.ParseResponse(w.Body.Bytes(), e.ca.Issuer())
		if !fresh.ThisUpdate.Equal(clk.Now()) || w.Header().Get("ETag") == before.Header().Get("ETag") {
			t.Errorf("at half its validity: thisUpdate %v (now %v), ETag %s", fresh.ThisUpdate, clk.Now(), w.Header().Get("ETag"))
		}
	})
}

// ocspGet sends an OCSP request by GET to h, with an If-None-Match header
// unless etag is empty.
func ocspGet(h http.Handler, der []byte, etag string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/pki/ocsp/"+url.PathEscape(base64.StdEncoding.EncodeToString(der)), nil)
	if etag != "" {
		r.Header.Set("If-None-Match", etag)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// checkHeaders checks that a cacheable answer's HTTP headers agree with the
// response: Last-Modified is its thisUpdate, and no cache keeps it past
// its nextUpdate.
func checkHeaders(t *testing.T, name string, w *httptest.ResponseRecorder, resp *ocsp.Response, now time.Time) {
	t.Helper()
	h := w.Header()
	var maxAge int
	if n, err := fmt.Sscanf(h.Get("Cache-Control"), "public, max-age=%d, no-transform, must-revalidate", &maxAge); n != 1 || err != nil || maxAge <= 0 ||
		now.Add(time.Duration(maxAge)*time.Second).After(resp.NextUpdate) {
		t.Errorf("%s: Cache-Control %q with nextUpdate %v", name, h.Get("Cache-Control"), resp.NextUpdate)
	}
	if lm, err := http.ParseTime(h.Get("Last-Modified")); err != nil || !lm.Equal(resp.ThisUpdate) {
		t.Errorf("%s: Last-Modified %q, thisUpdate %v", name, h.Get("Last-Modified"), resp.ThisUpdate)
	}
	if etag := h.Get("ETag"); len(etag) < 3 || etag[0] != '"' {
		t.Errorf("%s: ETag %q", name, etag)
	}
	if h.Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
		t.Errorf("%s: Content-Length %q for %d bytes", name, h.Get("Content-Length"), w.Body.Len())
	}
}
