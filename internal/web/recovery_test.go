package web_test

import (
	"crypto/rsa"
	"crypto/x509"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/options"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// openKeys opens sealed keys with the phone's transport key and checks
// each fits its certificate; it returns the serials by recovered flag.
func (ph *phone) openKeys(t *testing.T, keys []appclient.EncryptionKey) (own, recovered []string) {
	t.Helper()
	for _, k := range keys {
		der, err := appclient.OpenSealedKey(ph.transport, k.Serial, k.SealedKey)
		if err != nil {
			t.Fatalf("open key %s: %v", k.Serial, err)
		}
		key, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(k.Certificate)
		if !key.(*rsa.PrivateKey).PublicKey.Equal(cert.PublicKey) {
			t.Fatalf("key %s does not fit its certificate", k.Serial)
		}
		if cert.KeyUsage&x509.KeyUsageKeyEncipherment == 0 {
			t.Fatalf("certificate %s is not for encryption", k.Serial)
		}
		if k.Recovered {
			recovered = append(recovered, k.Serial)
		} else {
			own = append(own, k.Serial)
		}
	}
	return own, recovered
}

func (p *portal) setScript(t *testing.T, edits ...string) {
	t.Helper()
	src := options.DefaultGetScript
	for i := 0; i < len(edits); i += 2 {
		if !strings.Contains(src, edits[i]) {
			t.Fatalf("script has no %q", edits[i])
		}
		src = strings.Replace(src, edits[i], edits[i+1], 1)
	}
	if _, _, err := p.mobile.Options.Save(t.Context(), lanyard.CLIActor, options.MobileIDSelfServiceProcGet, src, ""); err != nil {
		t.Fatal(err)
	}
}

func TestEncryptionKeyRecovery(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		p := newPortal(t, dsn)
		alice := p.addUser(t, "alice", lanyard.UserActive)
		ac := p.loggedIn(t, "alice")
		p.setScript(t, "issue_encryption_certificate = False", "issue_encryption_certificate = True", "recover_latest = 3", "recover_latest = 1")
		api := &appclient.Client{BaseURL: p.URL}

		// The first mobile ID gets its own encryption key and nothing to recover.
		path, link := p.startGet(t, ac, nil)
		first := newPhone(t)
		if err := first.enroll(t, link); err != nil {
			t.Fatal(err)
		}
		p.post(t, ac, path+"/finish", nil)
		own1, rec := first.openKeys(t, first.resp.EncryptionKeys)
		if len(own1) != 1 || len(rec) != 0 {
			t.Fatalf("first phone: own %v recovered %v", own1, rec)
		}

		// The second recovers the latest one (recover_latest = 1) in the
		// background: pending at enrollment, delivered on sync.
		_, link = p.startGet(t, ac, url.Values{"action": {"lock"}})
		second := newPhone(t)
		if err := second.enroll(t, link); err != nil {
			t.Fatal(err)
		}
		if !second.resp.RecoveryPending {
			t.Fatal("recovery is not pending")
		}
		if _, err := p.mobile.RunRecoveries(t.Context()); err != nil {
			t.Fatal(err)
		}
		sync, err := api.Sync(t.Context(), second.resp.MobileID, second.auth)
		if err != nil {
			t.Fatal(err)
		}
		own2, rec := second.openKeys(t, sync.EncryptionKeys)
		if sync.RecoveryPending || len(own2) != 1 || len(rec) != 1 || rec[0] != own1[0] {
			t.Fatalf("second phone: own %v recovered %v (want %v)", own2, rec, own1)
		}
		// A sealed key is bound to its serial and to this device.
		if _, err := appclient.OpenSealedKey(first.transport, sync.EncryptionKeys[0].Serial, sync.EncryptionKeys[0].SealedKey); err == nil {
			t.Fatal("another device's transport key opened the sealed key")
		}

		// Manual recovery: the form lists the archive; the chosen one is delivered.
		p.setScript(t, "issue_encryption_certificate = False", "issue_encryption_certificate = True", `encryption_recovery = "automatic"`, `encryption_recovery = "manual"`)
		resp, body := p.post(t, ac, "/mobile-id/get", url.Values{"action": {"lock"}})
		wantStatus(t, resp, body, http.StatusSeeOther)
		path = resp.Header.Get("Location")
		resp, body = p.get(t, ac, path)
		wantStatus(t, resp, body, http.StatusOK, "Recover encryption certificates", own1[0], own2[0], "Issued", "Expires", "State")
		resp, body = p.post(t, ac, path+"/recovery", url.Values{"serial": {"ffff"}})
		if kind, _ := p.followMessage(t, ac, resp); kind != "error" {
			t.Fatal("a serial not in the archive was accepted")
		}
		resp, body = p.post(t, ac, path+"/recovery", url.Values{"serial": {own1[0]}})
		wantStatus(t, resp, body, http.StatusSeeOther)
		link = p.activationLink(t, ac, path)
		third := newPhone(t)
		if err := third.enroll(t, link); err != nil {
			t.Fatal(err)
		}
		p.mobile.RunRecoveries(t.Context())
		sync, err = api.Sync(t.Context(), third.resp.MobileID, third.auth)
		if err != nil {
			t.Fatal(err)
		}
		_, rec = third.openKeys(t, sync.EncryptionKeys)
		if len(rec) != 1 || rec[0] != own1[0] {
			t.Fatalf("manual recovery delivered %v, want %v", rec, own1)
		}
		resp, body = p.get(t, ac, "/mobile-id")
		wantStatus(t, resp, body, http.StatusOK, "encryption (recovered)", own1[0])
		if archived, _ := p.ca.FindArchivedCertificates(t.Context(), alice.ID); len(archived) != 3 {
			t.Fatalf("%d archived keys", len(archived))
		}
	})
}
