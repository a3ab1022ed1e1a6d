package pki_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestRevocationWithOpenSSL follows certificates through revocation, hold
// and release, asking openssl ocsp at every step and reading the CRL with
// openssl crl.
func TestRevocationWithOpenSSL(t *testing.T) {
	openssl := testenv.OpenSSL(t)
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn, pki.Config{})
		srv := httptest.NewServer(e.ca.Handler())
		defer srv.Close()
		dir := t.TempDir()
		root := writePEM(t, dir, "root.pem", "CERTIFICATE", e.ca.Root().Raw)
		issuing := writePEM(t, dir, "issuing.pem", "CERTIFICATE", e.ca.Issuer().Raw)
		chain := filepath.Join(dir, "chain.pem")
		os.WriteFile(chain, e.ca.ChainPEM(), 0o600)

		a, _ := e.issue(t, e.alice, lanyard.UsageSignature)
		b, _ := e.issue(t, e.alice, lanyard.UsageAuthentication)
		c, _ := e.issue(t, e.bob, lanyard.UsageSignature)
		aFile := writePEM(t, dir, "a.pem", "CERTIFICATE", a.DER)
		bFile := writePEM(t, dir, "b.pem", "CERTIFICATE", b.DER)

		ocsp := func(file, want string) string {
			t.Helper()
			out := testenv.Run(t, openssl, "ocsp", "-issuer", issuing, "-cert", file, "-url", srv.URL+"/pki/ocsp",
				"-CAfile", root, "-verify_other", issuing)
			if !strings.Contains(out, "Response verify OK") || !strings.Contains(out, file+": "+want) || strings.Contains(out, "WARNING") {
				t.Fatalf("openssl ocsp: want %s, got\n%s", want, out)
			}
			return out
		}
		crlSerials := func() (serials []string, number int) {
			t.Helper()
			if err := e.ca.PublishOwedCRL(ctx); err != nil {
				t.Fatal(err)
			}
			der := get(t, srv.URL+"/pki/crl", "application/pkix-crl")
			lintCRL(t, der)
			file := filepath.Join(dir, "crl.der")
			os.WriteFile(file, der, 0o600)
			out := testenv.Run(t, openssl, "crl", "-inform", "DER", "-in", file, "-CAfile", chain, "-noout", "-text")
			if !strings.Contains(out, "verify OK") || !strings.Contains(out, "Next Update:") {
				t.Fatalf("openssl crl:\n%s", out)
			}
			for _, m := range regexp.MustCompile(`Serial Number: ([0-9A-F]+)`).FindAllStringSubmatch(out, -1) {
				s, _ := pki.ParseSerial(m[1])
				serials = append(serials, s)
			}
			slices.Sort(serials)
			m := regexp.MustCompile(`X509v3 CRL Number: *\n *(\d+)`).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no CRL number:\n%s", out)
			}
			number, _ = strconv.Atoi(m[1])
			return serials, number
		}
		sorted := func(s ...string) []string { slices.Sort(s); return s }

		ocsp(aFile, "good")
		if got, _ := crlSerials(); len(got) != 0 {
			t.Fatalf("CRL before revocation lists %v", got)
		}

		if _, err := e.ca.RevokeCertificate(ctx, actor, a.Serial, lanyard.ReasonKeyCompromise); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		out := ocsp(aFile, "revoked")
		if !strings.Contains(out, "Reason: keyCompromise") {
			t.Fatalf("openssl ocsp after revocation:\n%s", out)
		}
		got, n1 := crlSerials()
		if !slices.Equal(got, []string{a.Serial}) {
			t.Fatalf("CRL lists %v, want %s", got, a.Serial)
		}
		// Revoking again is harmless and not audited twice.
		again, err := e.ca.RevokeCertificate(ctx, actor, strings.ToUpper(a.Serial), lanyard.ReasonSuperseded)
		if err != nil || again.Reason != lanyard.ReasonKeyCompromise {
			t.Fatalf("second revocation: %v, reason %v", err, again.Reason)
		}
		if ev, _ := e.db.FindAuditEvents(ctx, lanyard.AuditFilter{Action: "certificate.revoke", Subject: a.Serial}); len(ev) != 1 || ev[0].Actor != "operator" {
			t.Fatalf("audit events %+v", ev)
		}
		crl := writePEM(t, dir, "crl.pem", "X509 CRL", get(t, srv.URL+"/pki/crl", "application/pkix-crl"))
		if out, err := runOpenSSL(openssl, "verify", "-crl_check", "-CAfile", chain, "-CRLfile", crl, aFile); err == nil || !strings.Contains(out, "revoked") {
			t.Fatalf("openssl verify -crl_check of a revoked certificate: %v\n%s", err, out)
		}

		// Hold and release, as for an inactive mobile ID.
		if _, err := e.ca.HoldCertificate(ctx, actor, b.Serial); err != nil {
			t.Fatalf("hold: %v", err)
		}
		if out := ocsp(bFile, "revoked"); !strings.Contains(out, "Reason: certificateHold") {
			t.Fatalf("openssl ocsp on hold:\n%s", out)
		}
		got, n2 := crlSerials()
		if !slices.Equal(got, sorted(a.Serial, b.Serial)) || n2 <= n1 {
			t.Fatalf("CRL %d lists %v, want %s and %s after CRL %d", n2, got, a.Serial, b.Serial, n1)
		}
		if _, err := e.ca.ReleaseCertificate(ctx, actor, b.Serial); err != nil {
			t.Fatalf("release: %v", err)
		}
		ocsp(bFile, "good")
		if got, _ := crlSerials(); !slices.Equal(got, []string{a.Serial}) {
			t.Fatalf("CRL after release lists %v", got)
		}
		if _, err := e.ca.ReleaseCertificate(ctx, actor, a.Serial); lanyard.ErrorCode(err) != lanyard.ECONFLICT {
			t.Fatalf("release of a revoked certificate: %v", err)
		}
		if _, err := e.ca.HoldCertificate(ctx, actor, a.Serial); lanyard.ErrorCode(err) != lanyard.ECONFLICT {
			t.Fatalf("hold of a revoked certificate: %v", err)
		}
		if _, err := e.ca.RevokeCertificate(ctx, actor, c.Serial, lanyard.ReasonCertificateHold); lanyard.ErrorCode(err) != lanyard.EINVALID {
			t.Fatalf("revoke with reason certificateHold: %v", err)
		}
		if _, err := e.ca.RevokeCertificate(ctx, actor, "abc123", lanyard.ReasonUnspecified); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
			t.Fatalf("revoke of an unknown serial: %v", err)
		}
		for _, action := range []string{"certificate.issue", "certificate.hold", "certificate.release"} {
			if ev, _ := e.db.FindAuditEvents(ctx, lanyard.AuditFilter{Action: action}); len(ev) == 0 {
				t.Errorf("no %s audit event", action)
			}
		}
	})
}

// get fetches url and checks the status and content type.
func get(t *testing.T, url, contentType string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != contentType {
		t.Fatalf("GET %s: %s %s\n%s", url, resp.Status, resp.Header.Get("Content-Type"), body)
	}
	return body
}

// TestConcurrentRevokeAndHold races a revocation against a hold: whatever
// the order, the certificate ends revoked with the revocation's reason.
func TestConcurrentRevokeAndHold(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn, pki.Config{})
		for range 4 {
			c, _ := e.issue(t, e.alice, lanyard.UsageSignature)
			var wg sync.WaitGroup
			wg.Go(func() {
				if _, err := e.ca.RevokeCertificate(ctx, actor, c.Serial, lanyard.ReasonKeyCompromise); err != nil {
					t.Errorf("revoke: %v", err)
				}
			})
			wg.Go(func() {
				if _, err := e.ca.HoldCertificate(ctx, actor, c.Serial); err != nil && lanyard.ErrorCode(err) != lanyard.ECONFLICT {
					t.Errorf("hold: %v", err)
				}
			})
			wg.Wait()
			got, err := e.ca.FindCertificateBySerial(ctx, c.Serial)
			if err != nil || got.Status != lanyard.CertificateRevoked || got.Reason != lanyard.ReasonKeyCompromise {
				t.Fatalf("after the race: %v %+v", err, got)
			}
		}
	})
}
