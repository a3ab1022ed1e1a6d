package e2e_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"
)

const acmeDomain = "id.lanyard.test"

// startPebble runs Let's Encrypt's test ACME server in this process. Its
// validation authority resolves every name to 127.0.0.1 through a DNS
// server of the test's own, and reaches HTTP-01 answers on httpPort and
// TLS-ALPN-01 answers on tlsPort. It returns the directory URL, the file
// of the CA its HTTPS is signed by, the pool of the roots it issues under,
// and its log.
func startPebble(t *testing.T, httpPort, tlsPort int) (directory, caFile string, roots *x509.CertPool, logs *syncBuffer) {
	t.Helper()
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	dnsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dnsSrv := &dns.Server{Listener: dnsLn, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		for _, question := range q.Question {
			if question.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(127, 0, 0, 1)})
			}
		}
		w.WriteMsg(m)
	})}
	go dnsSrv.ActivateAndServe()
	t.Cleanup(func() { dnsSrv.Shutdown() })

	logs = &syncBuffer{}
	logger := log.New(logs, "pebble ", 0)
	store := db.NewMemoryStore()
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "default"}})
	validator := va.New(logger, httpPort, tlsPort, false, dnsLn.Addr().String(), store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 3, 5)

	files := newTLSFiles(t)
	files.issue(1)
	cert, err := tls.LoadX509KeyPair(files.cert, files.key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(front.Handler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "pebble-https-ca.pem")
	writeFile(t, filepath.Dir(caFile), filepath.Base(caFile), string(pemCert(files.caCert)))
	roots = x509.NewCertPool()
	if !roots.AppendCertsFromPEM(authority.GetRootCert(0).PEM()) {
		t.Fatal("pebble's root does not parse")
	}
	return srv.URL + wfe.DirectoryPath, caFile, roots, logs
}

// acmeClient reaches addr as the ACME domain, trusting the ACME CA's roots.
func acmeClient(addr string, roots *x509.CertPool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: roots, ServerName: acmeDomain},
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, addr)
			},
		},
	}
}

// TestACMEHTTP01 gets the server's certificate from a local ACME CA with
// HTTP-01 on --listen-http (TLS-ALPN-01 cannot succeed: the CA looks for
// it on a closed port), keeps it sealed in the database, and serves it
// from there after a restart while the CA is gone.
func TestACMEHTTP01(t *testing.T) {
	httpAddr, closedAddr := freeAddr(t), freeAddr(t)
	_, httpPort, _ := net.SplitHostPort(httpAddr)
	_, closedPort, _ := net.SplitHostPort(closedAddr)
	directory, caFile, roots, pebbleLog := startPebble(t, atoi(t, httpPort), atoi(t, closedPort))
	in := newInstance(t, "sqlite")
	args := []string{"--acme-domain", acmeDomain, "--acme-directory", directory, "--acme-ca-file", caFile, "--acme-email", "admin@example.org", "--listen-http", httpAddr}
	s := startServer(t, in, args...)
	c := acmeClient(s.addr, roots)
	get := func(path string) *http.Response {
		t.Helper()
		var resp *http.Response
		if !waitFor(readyTimeout*3, func() bool {
			var err error
			resp, err = c.Get("https://" + acmeDomain + path)
			return err == nil
		}) {
			_, err := c.Get("https://" + acmeDomain + path)
			t.Fatalf("no HTTPS with an ACME certificate: %v\nlanyard:\n%s\npebble:\n%s", err, s.stderr, pebbleLog)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := get("/healthz")
	leaf := resp.TLS.PeerCertificates[0]
	if resp.StatusCode != http.StatusOK || len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != acmeDomain {
		t.Fatalf("status %d, certificate for %v", resp.StatusCode, leaf.DNSNames)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); hsts != "max-age=31536000" {
		t.Fatalf("Strict-Transport-Security %q", hsts)
	}
	if !strings.Contains(pebbleLog.String(), "Attempting to validate w/ HTTP") || !strings.Contains(pebbleLog.String(), "set VALID") {
		t.Fatalf("pebble's log shows no HTTP-01 validation:\n%s", pebbleLog)
	}
	// Plain HTTP still redirects, beside answering the CA.
	r := fetch(t, nil, "http://"+httpAddr+"/mobile-id?x=1", nil)
	if want := "https://" + acmeDomain + ":" + s.addr[strings.LastIndex(s.addr, ":")+1:] + "/mobile-id?x=1"; r.status != http.StatusMovedPermanently || r.header.Get("Location") != want {
		t.Fatalf("plain HTTP: %d %q, want 301 %q", r.status, r.header.Get("Location"), want)
	}
	s.stopOK()

	data, err := os.ReadFile(filepath.Join(in.data, "lanyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(filepath.Join(in.data, "lanyard.db-wal"))
	if bytes.Contains(append(data, wal...), []byte("PRIVATE KEY")) {
		t.Fatal("the database holds a private key in clear")
	}

	// Restarted with the CA unreachable: the certificate comes from the
	// database.
	again := startServer(t, in, append(args[:2:2], "--acme-directory", "https://127.0.0.1:1/dir", "--acme-ca-file", caFile)...)
	c = acmeClient(again.addr, roots)
	if resp := get("/healthz"); resp.TLS.PeerCertificates[0].SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Fatal("the restarted server serves another certificate")
	}
	again.stopOK()
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a port: %q", s)
	}
	return n
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// TestACMETLSALPN01 gets the certificate with TLS-ALPN-01 on --listen
// alone, with no plain-HTTP port.
func TestACMETLSALPN01(t *testing.T) {
	addr, closedAddr := freeAddr(t), freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	_, closedPort, _ := net.SplitHostPort(closedAddr)
	directory, caFile, roots, pebbleLog := startPebble(t, atoi(t, closedPort), atoi(t, port))
	in := newInstance(t, "sqlite")
	s := startProcess(t, "serve "+addr, addr, childEnv(), append([]string{"serve", "--listen", addr}, append(in.args(),
		"--acme-domain", acmeDomain, "--acme-directory", directory, "--acme-ca-file", caFile)...)...)
	c := acmeClient(s.addr, roots)
	var resp *http.Response
	if !waitFor(readyTimeout*3, func() bool {
		var err error
		resp, err = c.Get("https://" + acmeDomain + "/healthz")
		return err == nil
	}) {
		t.Fatalf("no HTTPS with an ACME certificate\nlanyard:\n%s\npebble:\n%s", s.stderr, pebbleLog)
	}
	resp.Body.Close()
	if leaf := resp.TLS.PeerCertificates[0]; len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != acmeDomain {
		t.Fatalf("certificate for %v", leaf.DNSNames)
	}
	if !strings.Contains(pebbleLog.String(), "set VALID") || strings.Contains(pebbleLog.String(), "validate w/ HTTP") {
		t.Fatalf("pebble did not validate by TLS-ALPN-01 alone:\n%s", pebbleLog)
	}
	s.stopOK()
}

// TestACMEClusterSharesCertificate runs two instances of one cluster on
// PostgreSQL: the first gets the certificate, the second serves the same
// one from the database without asking the CA.
func TestACMEClusterSharesCertificate(t *testing.T) {
	httpAddr, closedAddr := freeAddr(t), freeAddr(t)
	_, httpPort, _ := net.SplitHostPort(httpAddr)
	_, closedPort, _ := net.SplitHostPort(closedAddr)
	directory, caFile, roots, pebbleLog := startPebble(t, atoi(t, httpPort), atoi(t, closedPort))
	in := newInstance(t, "postgres")
	a := startServer(t, in, "--acme-domain", acmeDomain, "--acme-directory", directory, "--acme-ca-file", caFile, "--listen-http", httpAddr)
	serial := func(s *server) string {
		t.Helper()
		c := acmeClient(s.addr, roots)
		var resp *http.Response
		if !waitFor(readyTimeout*3, func() bool {
			var err error
			resp, err = c.Get("https://" + acmeDomain + "/healthz")
			return err == nil
		}) {
			t.Fatalf("%s serves no ACME certificate\nlanyard:\n%s\npebble:\n%s", s.name, s.stderr, pebbleLog)
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.String()
	}
	first := serial(a)
	// The second instance's CA is unreachable: only the database can
	// give it the certificate.
	b := startServer(t, in, "--acme-domain", acmeDomain, "--acme-directory", "https://127.0.0.1:1/dir", "--acme-ca-file", caFile)
	if got := serial(b); got != first {
		t.Fatalf("the second instance serves certificate %s, the first %s", got, first)
	}
	b.stopOK()
	a.stopOK()
}

// TestACMEClusterOrdersOnce runs two instances of one cluster that can
// both reach the CA and are both asked for HTTPS at once: one orders the
// certificate, the other waits for it, and the CA issues one.
func TestACMEClusterOrdersOnce(t *testing.T) {
	httpAddr, closedAddr := freeAddr(t), freeAddr(t)
	_, httpPort, _ := net.SplitHostPort(httpAddr)
	_, closedPort, _ := net.SplitHostPort(closedAddr)
	directory, caFile, roots, pebbleLog := startPebble(t, atoi(t, httpPort), atoi(t, closedPort))
	in := newInstance(t, "postgres")
	args := []string{"--acme-domain", acmeDomain, "--acme-directory", directory, "--acme-ca-file", caFile}
	// Both answer HTTP-01; the CA looks on a's port, where a answers from
	// the database whichever instance asked.
	a := startServer(t, in, append(args, "--listen-http", httpAddr)...)
	a.waitServing()
	b := startServer(t, in, append(args, "--listen-http", freeAddr(t))...)
	b.waitServing()
	serials := make(chan string, 2)
	for _, s := range []*server{a, b} {
		go func() {
			c := acmeClient(s.addr, roots)
			var resp *http.Response
			if !waitFor(readyTimeout*3, func() bool {
				var err error
				resp, err = c.Get("https://" + acmeDomain + "/healthz")
				return err == nil
			}) {
				serials <- ""
				return
			}
			resp.Body.Close()
			serials <- resp.TLS.PeerCertificates[0].SerialNumber.String()
		}()
	}
	first, second := <-serials, <-serials
	if first == "" || second == "" {
		t.Fatalf("an instance serves no ACME certificate\na:\n%s\nb:\n%s\npebble:\n%s", a.stderr, b.stderr, pebbleLog)
	}
	if first != second {
		t.Fatalf("the instances serve certificates %s and %s", first, second)
	}
	if n := strings.Count(pebbleLog.String(), "Issued certificate"); n != 1 {
		t.Fatalf("the CA issued %d certificates for one cluster:\n%s", n, pebbleLog)
	}
	b.stopOK()
	a.stopOK()
}
