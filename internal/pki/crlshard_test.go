package pki_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// shardEnv is a CA whose clock the test moves, with an HTTP server in
// front of it.
type shardEnv struct {
	*env
	time *testClock
	srv  string // the server's URL, standing in for the public URL
}

func newShardEnv(t *testing.T, dsn string) *shardEnv {
	return newShardEnvIn(t, dsn, "")
}

// newShardEnvIn is newShardEnv with the master key in dataDir ("" for a
// temporary folder).
func newShardEnvIn(t *testing.T, dsn, dataDir string) *shardEnv {
	t.Helper()
	se := &shardEnv{time: newTestClock(time.Now().UTC())}
	se.env = newEnv(t, dsn, pki.Config{Now: se.clock, DataDir: dataDir})
	srv := newServer(t, se.ca.Handler())
	se.srv = srv
	return se
}

func (se *shardEnv) clock() time.Time        { return se.time.Now() }
func (se *shardEnv) advance(d time.Duration) { se.time.Set(se.time.Now().Add(d)) }

// url turns an address in a certificate into one of the test server.
func (se *shardEnv) url(addr string) string {
	return strings.Replace(addr, se.cfg.PublicURL, se.srv, 1)
}

func newServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// fetchCRL gets and parses the CRL at url, checking its signature.
func (se *shardEnv) fetchCRL(t *testing.T, url string) (*x509.RevocationList, []byte) {
	t.Helper()
	der := get(t, url, "application/pkix-crl")
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("parse CRL %s: %v", url, err)
	}
	if err := rl.CheckSignatureFrom(se.ca.Issuer()); err != nil {
		t.Fatalf("CRL %s: signature: %v", url, err)
	}
	return rl, der
}

// issuingDistributionPoint is RFC 5280's IssuingDistributionPoint as far
// as Lanyard's shards use it, decoded independently of how it is written.
type issuingDistributionPoint struct {
	DistributionPoint     asn1.RawValue `asn1:"optional,tag:0"`
	OnlyContainsUserCerts bool          `asn1:"optional,tag:1"`
	OnlyContainsCACerts   bool          `asn1:"optional,tag:2"`
}

// checkIDP checks that a shard's CRL carries a critical Issuing
// Distribution Point naming exactly url, for user certificates only.
func checkIDP(t *testing.T, rl *x509.RevocationList, url string) {
	t.Helper()
	for _, ext := range rl.Extensions {
		if !ext.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 28}) {
			continue
		}
		var idp issuingDistributionPoint
		if rest, err := asn1.Unmarshal(ext.Value, &idp); err != nil || len(rest) > 0 {
			t.Fatalf("IDP: %v", err)
		}
		// distributionPoint [0] { fullName [0] { uniformResourceIdentifier [6] } }
		var fullName asn1.RawValue
		if _, err := asn1.Unmarshal(idp.DistributionPoint.Bytes, &fullName); err != nil || fullName.Tag != 0 {
			t.Fatalf("IDP distributionPoint: %v %+v", err, fullName)
		}
		var uri asn1.RawValue
		if rest, err := asn1.Unmarshal(fullName.Bytes, &uri); err != nil || len(rest) > 0 || uri.Tag != 6 || uri.Class != asn1.ClassContextSpecific {
			t.Fatalf("IDP fullName: %v %+v", err, uri)
		}
		if !ext.Critical || string(uri.Bytes) != url || !idp.OnlyContainsUserCerts || idp.OnlyContainsCACerts {
			t.Fatalf("IDP critical=%t uri=%q onlyUser=%t, want critical %q onlyUser", ext.Critical, uri.Bytes, idp.OnlyContainsUserCerts, url)
		}
		return
	}
	t.Fatalf("the CRL of %s has no Issuing Distribution Point", url)
}

func listed(rl *x509.RevocationList) map[string]bool {
	m := map[string]bool{}
	for _, e := range rl.RevokedCertificateEntries {
		m[pki.SerialString(e.SerialNumber)] = true
	}
	return m
}

// TestCRLDistributionPointListsTheRevoked issues certificates into several
// shards, revokes some of each, and follows every certificate's CRL
// distribution point over HTTP: the CRL found there lists it if and only
// if it is revoked, no other shard lists it, the complete CRL lists every
// revocation, and Go, openssl and zlint accept every shard; openssl verify
// with -crl_check takes the shard for the certificates it names (the IDP
// matches the CDP) and refuses it for others.
func TestCRLDistributionPointListsTheRevoked(t *testing.T) {
	openssl := testenv.OpenSSL(t)
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		se := newShardEnv(t, dsn)
		dir := t.TempDir()
		chain := filepath.Join(dir, "chain.pem")
		os.WriteFile(chain, se.ca.ChainPEM(), 0o600)

		// Three validities on two days: six shards.
		var certs []*lanyard.Certificate
		for day := range 2 {
			for years := 1; years <= 3; years++ {
				for i := range 3 {
					u := []*lanyard.User{se.alice, se.bob}[i%2]
					c, err := se.ca.IssueCertificate(ctx, actor, u, lanyard.UsageSignature, makeCSR(t, newKey(t), pkixName()), years)
					if err != nil {
						t.Fatal(err)
					}
					certs = append(certs, c)
				}
			}
			if day == 0 {
				se.advance(24 * time.Hour)
			}
		}
		revoked := map[string]bool{}
		for i, c := range certs {
			reason := lanyard.ReasonKeyCompromise
			switch i % 3 {
			case 0:
				continue
			case 1:
				if _, err := se.ca.HoldCertificate(ctx, actor, c.Serial); err != nil {
					t.Fatal(err)
				}
			case 2:
				if _, err := se.ca.RevokeCertificate(ctx, actor, c.Serial, reason); err != nil {
					t.Fatal(err)
				}
			}
			revoked[c.Serial] = true
		}
		if err := se.ca.PublishOwedCRL(ctx); err != nil {
			t.Fatal(err)
		}

		shards := map[string]*x509.RevocationList{}
		for i, c := range certs {
			x := mustParse(t, c.DER)
			if len(x.CRLDistributionPoints) != 1 {
				t.Fatalf("CRL distribution points %v", x.CRLDistributionPoints)
			}
			cdp := x.CRLDistributionPoints[0]
			if !strings.HasPrefix(cdp, se.cfg.PublicURL+"/pki/crl/") {
				t.Fatalf("CRL distribution point %s", cdp)
			}
			rl, der := se.fetchCRL(t, se.url(cdp))
			if shards[cdp] == nil {
				shards[cdp] = rl
				checkIDP(t, rl, cdp)
				lintCRL(t, der)
				file := filepath.Join(dir, "shard.der")
				os.WriteFile(file, der, 0o600)
				out := testenv.Run(t, openssl, "crl", "-inform", "DER", "-in", file, "-CAfile", chain, "-noout", "-text")
				if !strings.Contains(out, "verify OK") || !strings.Contains(out, "Issuing Distribution Point: critical") ||
					!strings.Contains(out, cdp) || !strings.Contains(out, "Only User Certificates") {
					t.Fatalf("openssl crl of %s:\n%s", cdp, out)
				}
			}
			if listed(rl)[c.Serial] != revoked[c.Serial] {
				t.Errorf("certificate %d (%s): listed by its shard %t, revoked %t", i, c.Serial, listed(rl)[c.Serial], revoked[c.Serial])
			}
			lintCert(t, "certificate with a shard", c.DER)
		}
		if len(shards) != 6 {
			t.Fatalf("%d shards, want 6", len(shards))
		}
		complete, _ := se.fetchCRL(t, se.srv+"/pki/crl")
		if len(complete.RevokedCertificateEntries) != len(revoked) {
			t.Errorf("the complete CRL lists %d of %d revocations", len(complete.RevokedCertificateEntries), len(revoked))
		}
		for _, c := range certs {
			cdp := mustParse(t, c.DER).CRLDistributionPoints[0]
			for addr, rl := range shards {
				if addr != cdp && listed(rl)[c.Serial] {
					t.Errorf("%s is listed by %s, not its shard", c.Serial, addr)
				}
			}
			if listed(complete)[c.Serial] != revoked[c.Serial] {
				t.Errorf("%s: in the complete CRL %t, revoked %t", c.Serial, listed(complete)[c.Serial], revoked[c.Serial])
			}
		}

		// openssl checks the IDP against the certificate's CDP.
		verify := func(c *lanyard.Certificate, crlOf *lanyard.Certificate) (string, error) {
			cert := writePEM(t, dir, "cert.pem", "CERTIFICATE", c.DER)
			der := get(t, se.url(mustParse(t, crlOf.DER).CRLDistributionPoints[0]), "application/pkix-crl")
			crl := writePEM(t, dir, "crl.pem", "X509 CRL", der)
			at := strconv.FormatInt(se.clock().Unix(), 10) // the CRLs were made a day ahead
			return runOpenSSL(openssl, "verify", "-crl_check", "-attime", at, "-purpose", "smimesign", "-CAfile", chain, "-CRLfile", crl, cert)
		}
		good, held, bad := certs[0], certs[1], certs[2] // one shard
		if out, err := verify(good, good); err != nil || !strings.Contains(out, "OK") {
			t.Errorf("openssl verify -crl_check of a good certificate with its shard: %v\n%s", err, out)
		}
		if out, err := verify(bad, bad); err == nil || !strings.Contains(out, "revoked") {
			t.Errorf("openssl verify -crl_check of a revoked certificate with its shard: %v\n%s", err, out)
		}
		if out, err := verify(held, held); err == nil || !strings.Contains(out, "revoked") {
			t.Errorf("openssl verify -crl_check of a held certificate with its shard: %v\n%s", err, out)
		}
		other := certs[3] // the next validity: another shard
		if out, err := verify(good, other); err == nil || !strings.Contains(out, "different CRL scope") {
			t.Errorf("openssl verify -crl_check with another shard's CRL: %v\n%s", err, out)
		}
	})
}

// TestCRLShardsAcrossInstances runs two CA instances on one database. A
// revocation whose instance stopped before publishing is published by the
// other, which finds the shard owed in the database; the first then serves
// the other's CRL from memory after its periodic round. Both publishing at
// once never give two different CRLs one number. Later, with no change,
// every CRL is signed again before half its validity has passed, and a
// shard whose certificates have all expired goes away.
func TestCRLShardsAcrossInstances(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		se := newShardEnv(t, dsn)
		other := se.openInstance(t, dsn, se.clock)
		otherURL := newServer(t, other.Handler())

		var certs []*lanyard.Certificate
		for range 4 {
			c, _ := se.issue(t, se.alice, lanyard.UsageSignature)
			certs = append(certs, c)
		}
		shard := certs[0].CRLShard
		cdp := se.ca.CRLShardURL(shard)
		if err := se.ca.PublishOwedCRL(ctx); err != nil {
			t.Fatal(err)
		}
		first, _ := se.fetchCRL(t, se.url(cdp))
		if len(first.RevokedCertificateEntries) != 0 {
			t.Fatalf("a new shard lists %d", len(first.RevokedCertificateEntries))
		}

		// The revoking instance stops before it publishes: the status
		// change is in the database, the CRL is not.
		_, err := se.st.UpdateStatus(ctx, actor, certs[0].Serial, "certificate.revoke", func(c *lanyard.Certificate, now time.Time) (bool, string, error) {
			changed, err := c.Revoke(lanyard.ReasonKeyCompromise, now)
			return changed, "", err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := other.PublishCRLs(ctx); err != nil {
			t.Fatal(err)
		}
		fromOther, otherDER := se.fetchCRL(t, strings.Replace(cdp, se.cfg.PublicURL, otherURL, 1))
		if !listed(fromOther)[certs[0].Serial] || fromOther.Number.Cmp(first.Number) <= 0 {
			t.Fatalf("the other instance's CRL %v does not list the revocation", fromOther.Number)
		}
		if err := se.ca.PublishCRLs(ctx); err != nil {
			t.Fatal(err)
		}
		if _, der := se.fetchCRL(t, se.url(cdp)); !bytes.Equal(der, otherDER) {
			t.Fatal("after its round, the first instance serves another CRL than the one published")
		}

		// Both publish at once, many times over: whatever number each
		// ends with, one number is one CRL.
		seen := map[int64][]byte{}
		var mu sync.Mutex
		for i, c := range certs[1:] {
			if _, err := se.ca.RevokeCertificate(ctx, actor, c.Serial, lanyard.ReasonSuperseded); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for _, ca := range []*pki.CA{se.ca, other} {
				wg.Go(func() {
					if err := ca.PublishOwedCRL(ctx); err != nil {
						t.Errorf("round %d: %v", i, err)
					}
					rec, err := ca.ShardCRL(ctx, shard)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					defer mu.Unlock()
					if prev, ok := seen[rec.Number]; ok && !bytes.Equal(prev, rec.DER) {
						t.Errorf("two CRLs of shard %s with number %d", shard, rec.Number)
					}
					seen[rec.Number] = rec.DER
				})
			}
			wg.Wait()
		}
		if err := se.ca.PublishCRLs(ctx); err != nil {
			t.Fatal(err)
		}
		last, _ := se.fetchCRL(t, se.url(cdp))
		if len(last.RevokedCertificateEntries) != len(certs) {
			t.Fatalf("the shard lists %d of %d", len(last.RevokedCertificateEntries), len(certs))
		}

		// No change, but more than half the validity later: signed again.
		se.advance(13 * time.Hour)
		if err := other.PublishCRLs(ctx); err != nil {
			t.Fatal(err)
		}
		if err := se.ca.PublishOwedCRL(ctx); err != nil {
			t.Fatal(err)
		}
		for _, url := range []string{se.url(cdp), se.srv + "/pki/crl"} {
			rl, _ := se.fetchCRL(t, url)
			if !rl.NextUpdate.After(se.clock().Add(11 * time.Hour)) {
				t.Errorf("%s: nextUpdate %v, now %v", url, rl.NextUpdate, se.clock())
			}
		}

		// The certificates have expired: the shard goes, from the
		// database and from memory.
		se.advance(3 * 365 * 24 * time.Hour)
		if err := se.ca.PublishOwedCRL(ctx); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(se.url(cdp))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("an expired shard: %d", resp.StatusCode)
		}
		complete, _ := se.fetchCRL(t, se.srv+"/pki/crl")
		if len(complete.RevokedCertificateEntries) != 0 {
			t.Fatalf("the complete CRL still lists %d expired certificates", len(complete.RevokedCertificateEntries))
		}
	})
}

// TestCRLShardHTTP checks what the shard endpoint answers besides the CRL:
// caching headers, 304 to a revalidation, 404 for a shard that does not
// exist and for a name that is no shard's.
func TestCRLShardHTTP(t *testing.T) {
	se := newShardEnv(t, testenv.DSN(t, "sqlite"))
	ctx := context.Background()
	c, _ := se.issue(t, se.alice, lanyard.UsageSignature)
	if err := se.ca.PublishOwedCRL(ctx); err != nil {
		t.Fatal(err)
	}
	url := se.url(se.ca.CRLShardURL(c.CRLShard))
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || etag == "" || resp.Header.Get("Last-Modified") == "" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "max-age=") {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation with the ETag: %d", resp.StatusCode)
	}
	for _, path := range []string{"/pki/crl/19990101", "/pki/crl/29991231", "/pki/crl/nonsense", "/pki/crl/2030010", "/pki/crl/%00"} {
		resp, err := http.Get(se.srv + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}

// TestCRLOnlyChangedShardsSigned revokes a certificate of one shard: that
// shard's CRL is signed again, the other's is left as it was, and the
// complete CRL lists the revocation.
func TestCRLOnlyChangedShardsSigned(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		se := newShardEnv(t, dsn)
		var certs []*lanyard.Certificate
		for years := 1; years <= 2; years++ {
			c, err := se.ca.IssueCertificate(ctx, actor, se.alice, lanyard.UsageSignature, makeCSR(t, newKey(t), pkixName()), years)
			if err != nil {
				t.Fatal(err)
			}
			certs = append(certs, c)
		}
		if certs[0].CRLShard == certs[1].CRLShard {
			t.Fatalf("one shard %s for one and two years", certs[0].CRLShard)
		}
		if err := se.ca.PublishOwedCRL(ctx); err != nil {
			t.Fatal(err)
		}
		numbers := func() map[string]int64 {
			m := map[string]int64{}
			for _, c := range certs {
				rec, err := se.ca.ShardCRL(ctx, c.CRLShard)
				if err != nil {
					t.Fatal(err)
				}
				m[c.CRLShard] = rec.Number
			}
			return m
		}
		before := numbers()
		if _, err := se.ca.RevokeCertificate(ctx, actor, certs[0].Serial, lanyard.ReasonKeyCompromise); err != nil {
			t.Fatal(err)
		}
		if err := se.ca.PublishOwedCRL(ctx); err != nil {
			t.Fatal(err)
		}
		after := numbers()
		if after[certs[0].CRLShard] <= before[certs[0].CRLShard] || after[certs[1].CRLShard] != before[certs[1].CRLShard] {
			t.Fatalf("CRL numbers before %v, after revoking in %s: %v", before, certs[0].CRLShard, after)
		}
		complete, err := se.ca.CRL(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rl, _ := x509.ParseRevocationList(complete.DER)
		if !listed(rl)[certs[0].Serial] || listed(rl)[certs[1].Serial] {
			t.Fatalf("the complete CRL lists %v", listed(rl))
		}
	})
}
