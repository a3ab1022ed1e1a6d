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
	directory, caFile, roots, pebbleLog := startPebble(t, port(t, httpAddr), port(t, closedAddr))
	in := newInstance(t, "sqlite")
	args := []string{"--acme-domain", acmeDomain, "--acme-directory", directory, "--acme-ca-file", caFile, "--acme-email", "admin@example.org", "--listen-http", httpAddr}
	s := startServer(t, in, args...)
	get := func(s *server, path string) *http.Response {
		t.Helper()
		resp := acmeGet(s, roots, path)
		if resp == nil {
			t.Fatalf("no HTTPS with an ACME certificate\nlanyard:\n%s\npebble:\n%s", s.stderr, pebbleLog)
		}
		return resp
	}
	resp := get(s, "/healthz")
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
	if resp := get(again, "/healthz"); resp.TLS.PeerCertificates[0].SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Fatal("the restarted server serves another certificate")
	}
	again.stopOK()
}

// port is the port of a host:port address.
func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, _ := net.SplitHostPort(addr)
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("not an address with a port: %q", addr)
	}
	return n
}

// acmeGet fetches path from s over HTTPS as the ACME domain, waiting for
// the server to have its certificate; nil when it had none in time. The
// body is read and closed.
func acmeGet(s *server, roots *x509.CertPool, path string) *http.Response {
	c := acmeClient(s.addr, roots)
	var resp *http.Response
	if !waitFor(readyTimeout*3, func() bool {
		var err error
		resp, err = c.Get("https://" + acmeDomain + path)
		return err == nil
	}) {
		return nil
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// acmeSerial is the serial of the certificate s serves as the ACME domain,
// or "" when it had none in time.
func acmeSerial(s *server, roots *x509.CertPool) string {
	if resp := acmeGet(s, roots, "/healthz"); resp != nil {
		return resp.TLS.PeerCertificates[0].SerialNumber.String()
	}
	return ""
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// TestACMETLSALPN01 gets the certificate with TLS-ALPN-01 on --listen
// alone, with no plain-HTTP port.
func TestACMETLSALPN01(t *testing.T) {
	addr, closedAddr := freeAddr(t), freeAddr(t)
	directory, caFile, roots, pebbleLog := startPebble(t, port(t, closedAddr), port(t, addr))
	in := newInstance(t, "sqlite")
	s := startProcess(t, "serve "+addr, addr, childEnv(), append([]string{"serve", "--listen", addr}, append(in.args(),
		"--acme-domain", acmeDomain, "--acme-directory", directory, "--acme-ca-file", caFile)...)...)
	resp := acmeGet(s, roots, "/healthz")
	if resp == nil {
		t.Fatalf("no HTTPS with an ACME certificate\nlanyard:\n%s\npebble:\n%s", s.stderr, pebbleLog)
	}
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
	directory, caFile, roots, pebbleLog := startPebble(t, port(t, httpAddr), port(t, closedAddr))
	in := newInstance(t, "postgres")
	a := startServer(t, in, "--acme-domain", acmeDomain, "--acme-directory", directory, "--acme-ca-file", caFile, "--listen-http", httpAddr)
	serial := func(s *server) string {
		t.Helper()
		if serial := acmeSerial(s, roots); serial != "" {
			return serial
		}
		t.Fatalf("%s serves no ACME certificate\nlanyard:\n%s\npebble:\n%s", s.name, s.stderr, pebbleLog)
		return ""
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
	directory, caFile, roots, pebbleLog := startPebble(t, port(t, httpAddr), port(t, closedAddr))
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
		go func() { serials <- acmeSerial(s, roots) }()
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
