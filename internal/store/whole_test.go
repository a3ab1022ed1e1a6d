package store_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"golang.org/x/crypto/ocsp"
)

// wholeCase is an operation that must be whole or not at all: prepare
// makes what it works on, for a fresh user each time, and returns the
// operation, the certificates it touches and a check of its outcome.
type wholeCase struct {
	name    string
	prepare func(t *testing.T, f *fixture) (run func() error, certs []lanyard.SignedCertificate, want int)
}

var wholeCases = []wholeCase{
	{"log in with a password in place of an earlier session", func(t *testing.T, f *fixture) (func() error, []lanyard.SignedCertificate, int) {
		u := f.user(t)
		sessions := store.NewSessionService(f.db)
		old, err := sessions.CreateSession(context.Background(), u.ID, "192.0.2.1", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return func() error {
			_, err := sessions.LogIn(context.Background(), lanyard.Actor{Username: u.Username, Addr: "192.0.2.1"}, u.ID, old, time.Hour)
			return err
		}, nil, 0
	}},
	{"lock a mobile ID", func(t *testing.T, f *fixture) (func() error, []lanyard.SignedCertificate, int) {
		m, certs := f.active(t, f.user(t))
		return func() error {
			return f.db.SetMobileIDState(context.Background(), lanyard.CLIActor, m, lanyard.MobileIDLocked, "lost")
		}, certs, ocsp.Revoked
	}},
	{"delete a mobile ID", func(t *testing.T, f *fixture) (func() error, []lanyard.SignedCertificate, int) {
		m, certs := f.active(t, f.user(t))
		return func() error {
			return f.db.SetMobileIDState(context.Background(), lanyard.CLIActor, m, lanyard.MobileIDDeleted, "deleted")
		}, certs, ocsp.Revoked
	}},
	{"cancel a process whose app enrolled", func(t *testing.T, f *fixture) (func() error, []lanyard.SignedCertificate, int) {
		m, certs := f.active(t, f.user(t))
		e, err := f.db.FindEnrollmentByMobileID(context.Background(), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		e.Step = lanyard.StepCancelled
		return func() error {
			return f.db.UpdateEnrollment(context.Background(), lanyard.CLIActor, e, "mobileid.process_cancel", "cancelled by the user")
		}, certs, ocsp.Revoked
	}},
	{"enroll", func(t *testing.T, f *fixture) (func() error, []lanyard.SignedCertificate, int) {
		u := f.user(t)
		m, code := f.registered(t, u)
		certs := f.signed(t, u)
		mail := lanyard.Mail{To: u.Email, Subject: "Your mobile ID", Text: "created", Kind: "created"}
		return func() error {
			_, err := f.db.EnrollMobileID(context.Background(), lanyard.SystemActor, code, m, certs, mail)
			return err
		}, certs, ocsp.Good
	}},
	{"deactivate a user", func(t *testing.T, f *fixture) (func() error, []lanyard.SignedCertificate, int) {
		u := f.user(t)
		_, certs := f.active(t, u)
		return func() error {
			_, err := f.users.SetUserState(context.Background(), lanyard.CLIActor, u.Username, lanyard.UserInactive)
			return err
		}, certs, ocsp.Revoked
	}},
	{"reactivate a user", func(t *testing.T, f *fixture) (func() error, []lanyard.SignedCertificate, int) {
		u := f.user(t)
		_, certs := f.active(t, u)
		if _, err := f.users.SetUserState(context.Background(), lanyard.CLIActor, u.Username, lanyard.UserInactive); err != nil {
			t.Fatal(err)
		}
		return func() error {
			_, err := f.users.SetUserState(context.Background(), lanyard.CLIActor, u.Username, lanyard.UserActive)
			return err
		}, certs, ocsp.Good
	}},
	{"supply a mobile ID in place of the active one", func(t *testing.T, f *fixture) (func() error, []lanyard.SignedCertificate, int) {
		u := f.user(t)
		_, certs := f.active(t, u)
		f.registered(t, u) // a process still waiting for the app gives way too
		return func() error {
			e := &lanyard.Enrollment{PublicID: rand.Text(), UserID: u.ID, Process: "MobileIDProcSupplyMobileIDForUser", Step: lanyard.StepFinished,
				Options: []byte("{}"), ByEmail: true}
			m := &lanyard.MobileID{PublicID: rand.Text(), UserID: u.ID, State: lanyard.MobileIDRegistered, Process: e.Process,
				ProfileName: "MobileID", ServerName: "Smart ID", ProfileUser: u.Email}
			code := &lanyard.ActivationCode{Hash: []byte(rand.Text()), ExpiresAt: time.Now().Add(time.Hour), MobileID: m,
				Mails: []lanyard.Mail{{To: u.Email, Subject: "Your QR code", Text: "scan it", Kind: "qr_code"}}}
			return f.db.OpenEnrollment(context.Background(), lanyard.CLIActor, e, true, code)
		}, certs, ocsp.Revoked
	}},
	{"lock a user", func(t *testing.T, f *fixture) (func() error, []lanyard.SignedCertificate, int) {
		u := f.user(t)
		_, certs := f.active(t, u)
		return func() error {
			_, err := f.users.SetUserState(context.Background(), lanyard.CLIActor, u.Username, lanyard.UserLocked)
			return err
		}, certs, ocsp.Revoked
	}},
}

// TestOperationsAreWholeOrNothing fails each operation's transaction
// before each of its writes and at its commit, as a crash or a lost
// connection would: nothing of the operation may remain, and OCSP must say
// of every certificate what the database holds. Run whole, each operation
// changes every certificate and owes a CRL.
func TestOperationsAreWholeOrNothing(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		for _, tc := range wholeCases {
			t.Run(tc.name, func(t *testing.T) {
				run, certs, want := tc.prepare(t, f)
				var writes int
				store.CountWrites(f.db, &writes)
				err := run()
				store.FailBeforeWrite(f.db, 0)
				if err != nil {
					t.Fatalf("whole run: %v", err)
				}
				for _, sc := range certs {
					if got := f.ocspStatus(t, sc.Certificate); got != want {
						t.Fatalf("after the operation OCSP says %d of %s, want %d", got, sc.Certificate.Serial, want)
					}
				}
				f.checkOCSP(t, certs)
				if writes < len(certs) {
					t.Fatalf("%d writes for %d certificates", writes, len(certs))
				}
				for n := 1; n <= writes+1; n++ {
					run, certs, _ := tc.prepare(t, f)
					before, err := store.Dump(f.db)
					if err != nil {
						t.Fatal(err)
					}
					store.FailBeforeWrite(f.db, n)
					err = run()
					store.FailBeforeWrite(f.db, 0)
					if err == nil {
						t.Fatalf("failed before write %d of %d, the operation succeeded", n, writes)
					}
					after, err := store.Dump(f.db)
					if err != nil {
						t.Fatal(err)
					}
					if after != before {
						t.Fatalf("failed before write %d of %d, something remained:\nbefore:\n%s\nafter:\n%s", n, writes, before, after)
					}
					f.checkOCSP(t, certs)
				}
			})
		}
	})
}
