package pki_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"golang.org/x/crypto/ocsp"
)

// BenchmarkIssue measures certificates issued per second from a PKCS#10
// request: parsing and checking the request, signing, and storing the
// certificate with its audit event, from GOMAXPROCS goroutines at once.
func BenchmarkIssue(b *testing.B) {
	for _, engine := range testenv.Engines {
		b.Run(engine, func(b *testing.B) {
			e := newEnv(b, testenv.DSN(b, engine), pki.Config{})
			csr := makeCSR(b, newKey(b), pkixName())
			ctx := context.Background()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.ca.IssueCertificate(ctx, actor, e.alice, lanyard.UsageSignature, csr, 2); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
		})
	}
}

// BenchmarkSignCertificate measures signing one end-entity certificate
// for a request already checked, as a mobile ID's certificates are
// signed: the template, the encoding and the issuing CA's signature,
// without the database, for each kind of issuing CA key.
func BenchmarkSignCertificate(b *testing.B) {
	for _, alg := range []pki.KeyAlgorithm{pki.ECDSAP256, pki.ECDSAP384, pki.RSA3072} {
		b.Run(string(alg), func(b *testing.B) {
			e := newEnv(b, testenv.DSN(b, "sqlite"), pki.Config{KeyAlgorithm: alg})
			req, err := pki.CheckCSR(makeCSR(b, newKey(b), pkixName()), e.alice)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.ca.SignCheckedRequest(e.alice, lanyard.UsageSignature, req, 2); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOCSP measures OCSP responses per second through the HTTP
// handler (no network): answering with the certificate's response signed
// ahead, from memory (POST and GET); a request with a nonce within the
// budget of nonces signed afresh per second, and beyond it answered
// without the nonce (nonce); and with no bound on the nonces signed, so
// that each is signed afresh after reading the status (nonce-signed).
func BenchmarkOCSP(b *testing.B) {
	for _, engine := range testenv.Engines {
		benchmarkOCSP(b, engine, pki.Config{}, "")
		benchmarkOCSP(b, engine, pki.Config{OCSPNonceRate: math.MaxInt32}, "-signed")
	}
}

func benchmarkOCSP(b *testing.B, engine string, cfg pki.Config, suffix string) {
	{
		e := newEnv(b, testenv.DSN(b, engine), cfg)
		c, _ := e.issue(b, e.alice, lanyard.UsageSignature)
		req, err := ocsp.CreateRequest(mustParse(b, c.DER), e.ca.Issuer(), nil)
		if err != nil {
			b.Fatal(err)
		}
		nonce := withNonce(b, req, []byte("0123456789abcdef"))
		h := e.ca.Handler()
		for _, tc := range []struct {
			name string
			new  func() *http.Request
		}{
			{"POST", func() *http.Request {
				return httptest.NewRequest(http.MethodPost, "/pki/ocsp", bytes.NewReader(req))
			}},
			{"GET", func() *http.Request {
				return httptest.NewRequest(http.MethodGet, "/pki/ocsp/"+url.PathEscape(base64.StdEncoding.EncodeToString(req)), nil)
			}},
			{"nonce", func() *http.Request {
				return httptest.NewRequest(http.MethodPost, "/pki/ocsp", bytes.NewReader(nonce))
			}},
		} {
			if suffix != "" && tc.name != "nonce" {
				continue
			}
			b.Run(engine+"/"+tc.name+suffix, func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						w := httptest.NewRecorder()
						h.ServeHTTP(w, tc.new())
						if w.Code != 200 || w.Body.Len() < 100 {
							b.Errorf("OCSP: %d, %d bytes", w.Code, w.Body.Len())
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "responses/s")
			})
		}
	}
}
