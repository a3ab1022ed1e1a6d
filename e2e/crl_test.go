package e2e_test

import (
	"crypto/x509"
	"encoding/pem"
	"html"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCRLShardOfMobileID follows the CRL distribution point of a mobile
// ID's certificates on the running server, as a relying party does: the
// shard it names is served (on PostgreSQL by a cluster of two, the
// certificates issued by one and the CRL asked of the other), lists neither while the mobile
// ID is active, and, within seconds of the lock, both, so that `openssl
// verify -crl_check` with that CRL reports them revoked; the complete CRL
// lists them too.
func TestCRLShardOfMobileID(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			var in instance
			var a, b *server
			if engine == "postgres" {
				// One cluster, one public URL: a CRL's Issuing
				// Distribution Point names the address the certificates
				// do, whichever instance signs it.
				in = newInstance(t, engine)
				a = startServer(t, in)
				a.waitReady()
				b = startServer(t, in, "--public-url", a.url)
				b.waitReady()
			} else {
				in = newInstance(t, engine)
				a = startServer(t, in)
				a.waitReady()
				b = a
			}
			pw := "alice-" + randomText()
			addUser(t, in, "alice", pw)
			ck := mustLogin(t, a.url, "alice", pw)
			start := fetch(t, nil, a.url+"/mobile-id/get", url.Values{"action": {"next"}}, ck)
			page := fetch(t, nil, a.url+start.location(), nil, ck)
			m := enrollLink.FindStringSubmatch(page.body)
			if m == nil {
				t.Fatalf("the activation page shows no link:\n%s", page.body)
			}
			p := newPhone(t)
			if name := p.enroll(strings.Replace(html.UnescapeString(m[1]), a.url, b.url, 1)); name != aliceProfile {
				t.Fatalf("enroll printed %q", name)
			}
			if finish := fetch(t, nil, a.url+start.location()+"/finish", url.Values{}, ck); finish.status != http.StatusSeeOther {
				t.Fatalf("Next: %d", finish.status)
			}
			rp := newRelyingParty(t, a)
			pr := p.profile(aliceProfile)
			sig, auth := pr.cert(t, "signature"), pr.cert(t, "authentication")
			cdp := sig.parse(t).CRLDistributionPoints
			if len(cdp) != 1 || !strings.Contains(cdp[0], "/pki/crl/") || !slices.Equal(auth.parse(t).CRLDistributionPoints, cdp) {
				t.Fatalf("CRL distribution points %v and %v", cdp, auth.parse(t).CRLDistributionPoints)
			}
			u, _ := url.Parse(cdp[0])
			shardURL := a.url + u.Path // asked of A, whichever instance issued
			listed := func(rl *x509.RevocationList, c appCert) bool {
				for _, e := range rl.RevokedCertificateEntries {
					if e.SerialNumber.Cmp(c.parse(t).SerialNumber) == 0 {
						return true
					}
				}
				return false
			}
			fetchCRL := func(addr string) (*x509.RevocationList, string) {
				r := fetch(t, nil, addr, nil)
				if r.status != http.StatusOK {
					return nil, ""
				}
				rl, err := x509.ParseRevocationList([]byte(r.body))
				if err != nil {
					t.Fatalf("%s: %v", addr, err)
				}
				return rl, r.body
			}
			var rl *x509.RevocationList
			if !waitFor(15*time.Second, func() bool { rl, _ = fetchCRL(shardURL); return rl != nil }) {
				t.Fatalf("GET %s: no CRL", shardURL)
			}
			if listed(rl, sig) || listed(rl, auth) {
				t.Fatal("the shard lists the certificates of an active mobile ID")
			}

			lockMobileIDOverHTTP(t, b, ck)
			var der string
			if !waitFor(15*time.Second, func() bool {
				rl, der = fetchCRL(shardURL)
				return rl != nil && listed(rl, sig) && listed(rl, auth)
			}) {
				t.Fatalf("15 s after the lock, the shard %s does not list both certificates", shardURL)
			}
			crl := rp.write("shard.pem", string(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte(der)})))
			cert := rp.write("signature.pem", sig.PEM)
			out, err := exec.Command(rp.openssl, "verify", "-crl_check", "-purpose", "smimesign", "-CAfile", rp.chain, "-CRLfile", crl, cert).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "revoked") {
				t.Fatalf("openssl verify -crl_check with the shard: %v\n%s", err, out)
			}
			if !waitFor(15*time.Second, func() bool {
				complete, _ := fetchCRL(a.url + "/pki/crl")
				return complete != nil && listed(complete, sig) && listed(complete, auth)
			}) {
				t.Fatal("the complete CRL does not list the certificates of the locked mobile ID")
			}
		})
	}
}
