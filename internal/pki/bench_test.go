package pki_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
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

// BenchmarkOCSP measures signed OCSP responses per second through the HTTP
// handler (POST, no network): parsing the request, looking the certificate
// up in the database, and signing a fresh response.
func BenchmarkOCSP(b *testing.B) {
	for _, engine := range testenv.Engines {
		b.Run(engine, func(b *testing.B) {
			e := newEnv(b, testenv.DSN(b, engine), pki.Config{})
			c, _ := e.issue(b, e.alice, lanyard.UsageSignature)
			req, err := ocsp.CreateRequest(mustParse(b, c.DER), e.ca.Issuer(), nil)
			if err != nil {
				b.Fatal(err)
			}
			h := e.ca.Handler()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/pki/ocsp", bytes.NewReader(req)))
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
