package e2e_test

import (
	"encoding/pem"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/internal/testenv"
)

// relyingParty checks certificates against a running server as any relying
// party does: with openssl, the CA chain from /pki/ca.pem and the OCSP
// responder at /pki/ocsp.
type relyingParty struct {
	t       testing.TB
	openssl string
	server  *server
	dir     string
	chain   string // the PEM chain the server publishes, issuing CA first
	issuer  string // the issuing CA alone
}

// newRelyingParty fetches the server's CA chain.
func newRelyingParty(t testing.TB, s *server) *relyingParty {
	t.Helper()
	rp := &relyingParty{t: t, openssl: testenv.OpenSSL(t), server: s, dir: t.TempDir()}
	r := fetch(t, nil, s.url+"/pki/ca.pem", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /pki/ca.pem: status %d, want 200; body %q", r.status, r.body)
	}
	first, _ := pem.Decode([]byte(r.body))
	if first == nil || first.Type != "CERTIFICATE" {
		t.Fatalf("GET /pki/ca.pem holds no PEM certificate: %q", r.body)
	}
	rp.chain = rp.write("chain.pem", r.body)
	rp.issuer = rp.write("issuer.pem", string(pem.EncodeToMemory(first)))
	return rp
}

// write stores a file in the relying party's folder and returns its path.
func (rp *relyingParty) write(name, data string) string {
	rp.t.Helper()
	return writeFile(rp.t, rp.dir, name, data)
}

// ocsp asks the server's OCSP responder with `openssl ocsp` for the status
// of a certificate and returns it: good, revoked or unknown. It fails the
// test if openssl cannot get a verified answer.
func (rp *relyingParty) ocsp(name, certPEM string) string {
	rp.t.Helper()
	certFile := rp.write(name+".pem", certPEM)
	args := []string{"ocsp", "-issuer", rp.issuer, "-cert", certFile,
		"-url", rp.server.url + "/pki/ocsp", "-CAfile", rp.chain}
	out, err := exec.Command(rp.openssl, args...).CombinedOutput()
	if err != nil {
		rp.t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if !strings.Contains(string(out), "Response verify OK") {
		rp.t.Fatalf("openssl ocsp could not verify the responder's answer for the %s certificate:\n%s", name, out)
	}
	for line := range strings.Lines(string(out)) {
		if status, ok := strings.CutPrefix(line, certFile+": "); ok {
			return strings.TrimSpace(status)
		}
	}
	rp.t.Fatalf("openssl ocsp printed no status for the %s certificate:\n%s", name, out)
	return ""
}

// openssl runs openssl with args and fails the test unless it succeeds.
func (rp *relyingParty) run(args ...string) string {
	rp.t.Helper()
	return testenv.Run(rp.t, rp.openssl, args...)
}
