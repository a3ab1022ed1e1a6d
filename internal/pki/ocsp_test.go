package pki_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"golang.org/x/crypto/ocsp"
)

// TestOCSPResponder checks the responder over HTTP with the Go OCSP client:
// GET and POST, good, revoked and unknown, the nonce, cache headers, and a
// malformedRequest answer (never a 500) to bad input.
func TestOCSPResponder(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn, pki.Config{})
		srv := httptest.NewServer(e.ca.Handler())
		defer srv.Close()
		good, _ := e.issue(t, e.alice, lanyard.UsageSignature)
		revoked, _ := e.issue(t, e.alice, lanyard.UsageAuthentication)
		if _, err := e.ca.RevokeCertificate(ctx, actor, revoked.Serial, lanyard.ReasonAffiliationChanged); err != nil {
			t.Fatal(err)
		}
		issuer := e.ca.Issuer()

		for _, tc := range []struct {
			name   string
			cert   *lanyard.Certificate
			serial *big.Int // overrides the certificate's serial
			get    bool
			want   int
		}{
			{"good over POST", good, nil, false, ocsp.Good},
			{"good over GET", good, nil, true, ocsp.Good},
			{"revoked", revoked, nil, false, ocsp.Revoked},
			{"unknown serial", good, big.NewInt(12345), true, ocsp.Unknown},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cert := mustParse(t, tc.cert.DER)
				der, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if tc.serial != nil {
					req, _ := ocsp.ParseRequest(der)
					req.SerialNumber = tc.serial
					der, _ = req.Marshal()
				}
				body, hdr := ocspQuery(t, srv.URL, der, tc.get)
				if !strings.Contains(hdr.Get("Cache-Control"), "max-age=") {
					t.Errorf("Cache-Control %q", hdr.Get("Cache-Control"))
				}
				resp, err := ocsp.ParseResponse(body, issuer)
				if err != nil {
					t.Fatalf("parse response: %v", err)
				}
				if resp.Status != tc.want || (tc.serial == nil && resp.SerialNumber.Cmp(cert.SerialNumber) != 0) {
					t.Fatalf("status %d serial %x, want %d", resp.Status, resp.SerialNumber, tc.want)
				}
				if tc.want == ocsp.Revoked && resp.RevocationReason != ocsp.AffiliationChanged {
					t.Errorf("reason %d", resp.RevocationReason)
				}
				if !resp.NextUpdate.After(resp.ThisUpdate) {
					t.Errorf("thisUpdate %v nextUpdate %v", resp.ThisUpdate, resp.NextUpdate)
				}
				lintOCSP(t, resp)
			})
		}

		t.Run("malformed", func(t *testing.T) {
			for name, fetch := range map[string]func() *http.Response{
				"garbage POST": func() *http.Response { return post(t, srv.URL+"/pki/ocsp", []byte("not DER at all")) },
				"empty POST":   func() *http.Response { return post(t, srv.URL+"/pki/ocsp", nil) },
				"bad base64":   func() *http.Response { return httpGet(t, srv.URL+"/pki/ocsp/not*base64!!") },
				"DER certificate": func() *http.Response {
					return post(t, srv.URL+"/pki/ocsp", good.DER)
				},
			} {
				resp := fetch()
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/ocsp-response" {
					t.Fatalf("%s: %s %s", name, resp.Status, resp.Header.Get("Content-Type"))
				}
				if _, err := ocsp.ParseResponse(body, issuer); err != (ocsp.ResponseError{Status: ocsp.Malformed}) {
					t.Fatalf("%s: %v", name, err)
				}
			}
		})
	})
}

// ocspQuery sends an OCSP request by POST or GET and returns the answer.
func ocspQuery(t *testing.T, base string, der []byte, get bool) ([]byte, http.Header) {
	t.Helper()
	var resp *http.Response
	if get {
		resp = httpGet(t, base+"/pki/ocsp/"+url.PathEscape(base64.StdEncoding.EncodeToString(der)))
	} else {
		resp = post(t, base+"/pki/ocsp", der)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/ocsp-response" {
		t.Fatalf("OCSP: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	return body, resp.Header
}

func post(t *testing.T, url string, body []byte) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/ocsp-request", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func httpGet(t *testing.T, url string) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
