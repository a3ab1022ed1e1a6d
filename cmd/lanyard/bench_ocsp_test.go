package main

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/store"
	"golang.org/x/crypto/ocsp"
)

// TestMain lets the test binary stand in for the program when the bench
// starts its bare handler as a child process of its own executable.
func TestMain(m *testing.M) {
	if os.Getenv(benchChildEnv) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestBenchOCSP runs `lanyard bench ocsp` against a real server holding
// good and revoked certificates, which the mobile-ID bench made, and
// checks the report's structure. Every answer of the run is checked by the
// bench itself against a response verified with the issuer for its
// certificate, and the revoked ones against the database, so a run without
// errors means that every answer was a valid OCSP response.
func TestBenchOCSP(t *testing.T) {
	url, pw := startServer(t, "sqlite", 2)
	c := &cli{t: t}
	// Four mobile IDs for two users: the last two replace the first two,
	// whose certificates are revoked.
	c.ok("", "bench", "--url", url, "--users", "2", "--count", "4", "--password-file", pw)
	data := filepath.Dir(pw)
	out := c.ok("", "bench", "ocsp", "--url", url, "--data", data, "--duration", "300ms", "--concurrency", "2", "--server-pid", "0")
	t.Log(out)
	if !strings.Contains(out, "certificates (4 good, 4 revoked), concurrency 2") {
		t.Errorf("bench ocsp target line:\n%s", out)
	}
	for _, phase := range []string{"bare GET", "OCSP GET", "bare POST", "OCSP POST"} {
		re := regexp.MustCompile(`(?m)^` + phase + `: +[1-9][0-9]* in [0-9.]+m?s = [0-9]+/s, p50 [0-9.]+ ms, p99 [0-9.]+ ms.*, errors 0$`)
		if !re.MatchString(out) {
			t.Errorf("bench ocsp lacks a line for %s:\n%s", phase, out)
		}
	}
	if !regexp.MustCompile(`(?m)^speed: +a P-256 signature took [0-9.]+ µs before the run and [0-9.]+ µs after`).MatchString(out) {
		t.Errorf("bench ocsp gives no speed of the machine:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^OCSP GET: .*, [0-9.]+× bare,`).MatchString(out) {
		t.Errorf("bench ocsp gives no ratio to the bare handler:\n%s", out)
	}
	// The server's process is this one: its CPU per request is reported.
	out = c.ok("", "bench", "ocsp", "--url", url, "--data", data, "--duration", "200ms", "--server-pid", itoa(os.Getpid()))
	if !regexp.MustCompile(`(?m)^OCSP POST: .* µs CPU/request, errors 0$`).MatchString(out) {
		t.Errorf("bench ocsp --server-pid gives no CPU per request:\n%s", out)
	}

	// The server answered from memory, and says so on /metrics.
	req, _ := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+benchMetricsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`(?m)^lanyard_ocsp_presigned_answers_total\{source="memory"\} [1-9]`).Match(metrics) ||
		!regexp.MustCompile(`(?m)^lanyard_ocsp_status_watch_live 1$`).Match(metrics) {
		t.Errorf("/metrics says of OCSP:\n%s", regexp.MustCompile(`(?m)^lanyard_ocsp.*$`).FindAll(metrics, -1))
	}
	// And of its database: the mobile IDs' transactions, and commits.
	count := func(name string) int {
		m := regexp.MustCompile(`(?m)^` + name + ` (\d+)$`).FindSubmatch(metrics)
		if m == nil {
			t.Fatalf("/metrics has no %s", name)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	if tx, commits := count("lanyard_db_transactions_total"), count("lanyard_db_commits_total"); tx < 3 || commits < 1 || commits > tx || count("lanyard_db_statements_total") < tx ||
		count("lanyard_db_round_trips_total") != 0 { // SQLite has none
		t.Errorf("/metrics says of the database:\n%s", regexp.MustCompile(`(?m)^lanyard_db_.*$`).FindAll(metrics, -1))
	}

	c.fails(2, "--url is required", "bench", "ocsp", "--data", data)
	c.fails(2, "not a loopback address", "bench", "ocsp", "--url", "http://192.0.2.1:8080", "--data", data)
	empty := filepath.Join(t.TempDir(), "none.pem")
	os.WriteFile(empty, nil, 0o600)
	c.fails(1, "no certificates to ask about", "bench", "ocsp", "--url", url, "--data", data, "--certs", empty)
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestOCSPSeesAdminCommand changes a user's state with the administration
// command, a process of its own on the server's SQLite database, and checks
// that the running server's OCSP answers without a nonce, which it keeps
// in memory, follow: on hold, then good again.
func TestOCSPSeesAdminCommand(t *testing.T) {
	ctx := context.Background()
	url, pw := startServer(t, "sqlite", 1)
	c := &cli{t: t}
	c.ok("", "bench", "--url", url, "--users", "1", "--count", "1", "--password-file", pw)
	data := filepath.Dir(pw)
	db, err := store.Open(ctx, filepath.Join(data, "lanyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := store.NewUserService(db, password.Params{Memory: 1024, Time: 1, Threads: 1}).FindUserByUsername(ctx, "benchuser1")
	if err != nil {
		t.Fatal(err)
	}
	certs, err := store.NewPKIStore(db).FindCertificates(ctx, u.ID, false)
	if err != nil || len(certs) == 0 {
		t.Fatalf("certificates of benchuser1: %v %d", err, len(certs))
	}
	cert, _ := x509.ParseCertificate(certs[0].DER)
	issuer, err := fetchIssuer(ctx, http.DefaultClient, url)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := ocsp.CreateRequest(cert, issuer, nil)
	get := url + "/pki/ocsp/" + neturl.PathEscape(base64.StdEncoding.EncodeToString(req))
	status := func() *ocsp.Response {
		t.Helper()
		resp, err := http.Get(get)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r, err := ocsp.ParseResponseForCert(body, cert, issuer)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	awaits := func(what string, ok func(r *ocsp.Response) bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !ok(status()); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("OCSP does not say %s after 10 s", what)
			}
		}
	}
	if status().Status != ocsp.Good || status().Status != ocsp.Good {
		t.Fatal("not good before the change")
	}
	c.ok("", "user", "set-state", "benchuser1", "inactive", "--data", data)
	awaits("on hold", func(r *ocsp.Response) bool {
		return r.Status == ocsp.Revoked && r.RevocationReason == ocsp.CertificateHold
	})
	c.ok("", "user", "set-state", "benchuser1", "active", "--data", data)
	awaits("good again", func(r *ocsp.Response) bool { return r.Status == ocsp.Good })
}
