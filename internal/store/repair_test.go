package store_test

import (
	"context"
	"crypto/x509"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestCRLOwedOutlivesTheInstance locks a mobile ID on one instance, which
// then stops without publishing a CRL: another instance finds the CRL
// owed in the database and publishes one that lists every revocation.
func TestCRLOwedOutlivesTheInstance(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		f := newFixture(t, dsn)
		m, certs := f.active(t, f.user(t))
		if owed, err := f.pki.CRLOwed(ctx); err != nil || owed {
			t.Fatalf("owed before any revocation: %t, %v", owed, err)
		}
		if err := f.db.SetMobileIDState(ctx, lanyard.CLIActor, m, lanyard.MobileIDLocked, "lost"); err != nil {
			t.Fatal(err)
		}
		other := store.NewPKIStore(openDB(t, dsn))
		ca, err := pki.Open(ctx, other, pki.Config{PublicURL: "http://lanyard.test", DataDir: f.dataDir})
		if err != nil {
			t.Fatal(err)
		}
		if owed, err := other.CRLOwed(ctx); err != nil || !owed {
			t.Fatalf("the other instance sees no CRL owed: %t, %v", owed, err)
		}
		if err := ca.PublishOwedCRL(ctx); err != nil {
			t.Fatal(err)
		}
		if owed, _ := other.CRLOwed(ctx); owed {
			t.Fatal("still owed after publishing")
		}
		crl, err := other.LatestCRL(ctx)
		if err != nil {
			t.Fatal(err)
		}
		assertListed(t, crl.DER, certs)
	})
}

func assertListed(t *testing.T, der []byte, certs []lanyard.SignedCertificate) {
	t.Helper()
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, e := range rl.RevokedCertificateEntries {
		listed[pki.SerialString(e.SerialNumber)] = true
	}
	for _, sc := range certs {
		if !listed[sc.Certificate.Serial] {
			t.Fatalf("the CRL does not list %s", sc.Certificate.Serial)
		}
	}
}

// TestRepairCertificates stands in for data an interrupted change left
// mismatched: mobile IDs whose state changed while their certificates
// stayed good, and a certificate no mobile ID holds. The repair holds or
// revokes each to match, audits it, owes a CRL, and finds nothing more
// the second time.
func TestRepairCertificates(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		f := newFixture(t, dsn)
		locked, lockedCerts := f.active(t, f.user(t))
		inactive, inactiveCerts := f.active(t, f.user(t))
		_, fine := f.active(t, f.user(t))
		u := f.user(t)
		orphan, err := f.ca.IssueCertificate(ctx, lanyard.SystemActor, u, lanyard.UsageSignature, newCSR(t), 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct {
			m     *lanyard.MobileID
			state lanyard.MobileIDState
		}{{locked, lanyard.MobileIDLocked}, {inactive, lanyard.MobileIDInactive}} {
			if err := store.Exec(f.db, `UPDATE mobile_ids SET state = ? WHERE id = ?`, string(m.state), m.m.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.ca.PublishOwedCRL(ctx); err != nil {
			t.Fatal(err)
		}
		n, err := f.db.RepairCertificates(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(lockedCerts) + len(inactiveCerts) + 1; n != want {
			t.Fatalf("repaired %d certificates, want %d", n, want)
		}
		for _, tc := range []struct {
			certs []lanyard.SignedCertificate
			want  lanyard.CertificateStatus
		}{
			{lockedCerts, lanyard.CertificateRevoked},
			{inactiveCerts, lanyard.CertificateOnHold},
			{fine, lanyard.CertificateValid},
			{[]lanyard.SignedCertificate{{Certificate: orphan}}, lanyard.CertificateRevoked},
		} {
			for _, sc := range tc.certs {
				c, err := f.pki.FindCertificate(ctx, sc.Certificate.Serial)
				if err != nil {
					t.Fatal(err)
				}
				if c.Status != tc.want {
					t.Fatalf("%s is %s, want %s", c.Serial, c.Status, tc.want)
				}
			}
			f.checkOCSP(t, tc.certs)
		}
		events, err := f.db.FindAuditEvents(ctx, lanyard.AuditFilter{Subject: orphan.Serial, Action: "certificate.revoke"})
		if err != nil || len(events) != 1 || events[0].Actor != lanyard.SystemActor.Username {
			t.Fatalf("audit of the orphan's repair: %v, %v", events, err)
		}
		if owed, _ := f.pki.CRLOwed(ctx); !owed {
			t.Fatal("the repair owes no CRL")
		}
		if n, err := f.db.RepairCertificates(ctx, 0); err != nil || n != 0 {
			t.Fatalf("a second repair changed %d: %v", n, err)
		}
	})
}

// TestIdleJobsWriteNothing runs the periodic jobs with nothing to do: they
// only read, outside any transaction, so that on SQLite they never hold
// the write lock that every change waits for.
func TestIdleJobsWriteNothing(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		f := newFixture(t, dsn)
		f.active(t, f.user(t))
		f.registered(t, f.user(t))
		before := f.db.Counters()
		if n, err := f.db.ExpireEnrollments(ctx); err != nil || n != 0 {
			t.Fatalf("expire: %d, %v", n, err)
		}
		if n, err := f.db.FailInterrupted(ctx, 0); err != nil || n != 0 {
			t.Fatalf("fail interrupted: %d, %v", n, err)
		}
		if n, err := f.db.RepairCertificates(ctx, 0); err != nil || n != 0 {
			t.Fatalf("repair: %d, %v", n, err)
		}
		if n, err := f.db.RepairUserMobileIDs(ctx); err != nil || n != 0 {
			t.Fatalf("repair users' mobile IDs: %d, %v", n, err)
		}
		if after := f.db.Counters(); after.Transactions != before.Transactions {
			t.Fatalf("%d transactions for nothing to do", after.Transactions-before.Transactions)
		}
	})
}

// TestRepairUserMobileIDs leaves mobile IDs active behind users who are
// inactive and locked, as an interrupted change of an older version could:
// the repair holds the one and locks the other with their certificates,
// and leaves an active user's mobile ID alone.
func TestRepairUserMobileIDs(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		f := newFixture(t, dsn)
		inactive, locked, active := f.user(t), f.user(t), f.user(t)
		mInactive, cInactive := f.active(t, inactive)
		mLocked, cLocked := f.active(t, locked)
		mActive, cActive := f.active(t, active)
		for u, state := range map[*lanyard.User]lanyard.UserState{inactive: lanyard.UserInactive, locked: lanyard.UserLocked} {
			if err := store.Exec(f.db, `UPDATE users SET state = ? WHERE id = ?`, string(state), u.ID); err != nil {
				t.Fatal(err)
			}
		}
		n, err := f.db.RepairUserMobileIDs(ctx)
		if err != nil || n != 2 {
			t.Fatalf("repaired %d mobile IDs: %v", n, err)
		}
		for _, tc := range []struct {
			m     *lanyard.MobileID
			certs []lanyard.SignedCertificate
			state lanyard.MobileIDState
			cert  lanyard.CertificateStatus
		}{
			{mInactive, cInactive, lanyard.MobileIDInactive, lanyard.CertificateOnHold},
			{mLocked, cLocked, lanyard.MobileIDLocked, lanyard.CertificateRevoked},
			{mActive, cActive, lanyard.MobileIDActive, lanyard.CertificateValid},
		} {
			m, err := f.db.FindMobileID(ctx, tc.m.ID)
			if err != nil || m.State != tc.state {
				t.Fatalf("mobile ID %s: %v", tc.state, err)
			}
			for _, sc := range tc.certs {
				if c, _ := f.pki.FindCertificate(ctx, sc.Certificate.Serial); c.Status != tc.cert {
					t.Fatalf("certificate of the %s mobile ID is %s", tc.state, c.Status)
				}
			}
			f.checkOCSP(t, tc.certs)
		}
		if n, err := f.db.RepairUserMobileIDs(ctx); err != nil || n != 0 {
			t.Fatalf("a second repair changed %d: %v", n, err)
		}
	})
}
