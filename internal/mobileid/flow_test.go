package mobileid_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"strconv"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/mobileid"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// getMobileID runs "Get mobile ID" for u from the first step to Next, with
// the app enrolling in between, locking u's active mobile ID when lock is
// set, and returns the new mobile ID's ID.
func (e *env) getMobileID(t *testing.T, u *lanyard.User, lock bool) (mobileID int64) {
	t.Helper()
	ctx := context.Background()
	actor := lanyard.Actor{Username: u.Username}
	if _, err := e.svc.Intro(ctx, actor, u); err != nil {
		t.Fatalf("intro: %v", err)
	}
	en, err := e.svc.Start(ctx, actor, u, mobileid.StartRequest{LockExisting: lock})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	a, err := e.svc.Activate(ctx, actor, u, en.PublicID)
	if err != nil {
		t.Fatalf("activate: %v", err)
	}
	if _, err := e.svc.Enroll(ctx, e.enrollRequest(t, a.Link)); err != nil {
		t.Fatalf("enroll: %v", err)
	}
	if _, err := e.svc.Finish(ctx, actor, u, en.PublicID); err != nil {
		t.Fatalf("finish: %v", err)
	}
	return a.MobileID.ID
}

// enrollRequest is what an app sends for the enrollment link: fresh keys
// and their requests.
func (e *env) enrollRequest(t *testing.T, link string) mobileid.EnrollRequest {
	t.Helper()
	_, code, err := appclient.ParseEnrollmentLink(link)
	if err != nil {
		t.Fatal(err)
	}
	transport, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return mobileid.EnrollRequest{
		Code: code, DeviceName: "test phone", TransportKey: transport.PublicKey().Bytes(),
		CSRs: map[lanyard.CertificateUsage][]byte{lanyard.UsageSignature: csr(t), lanyard.UsageAuthentication: csr(t)},
	}
}

// TestRecoveryQueuedOnlyWithSomethingToRecover gets a first mobile ID for a
// user without archived keys: with automatic recovery nothing is queued,
// so the recovery job has no work for it.
func TestRecoveryQueuedOnlyWithSomethingToRecover(t *testing.T) {
	e := newEnv(t, testenv.DSN(t, "sqlite"))
	u := e.addUser(t, "alice")
	m, err := e.db.FindMobileID(context.Background(), e.getMobileID(t, u, false))
	if err != nil {
		t.Fatal(err)
	}
	if m.RecoveryPending {
		t.Fatal("recovery pending with nothing archived")
	}
	if pending, err := e.db.PendingRecoveries(context.Background(), 0, 10); err != nil || len(pending) != 0 {
		t.Fatalf("%d recoveries pending: %v", len(pending), err)
	}
}

// TestRecoveryJobSkipsFailingMobileIDs queues more recoveries that cannot
// be served (their process's options are unreadable) than the job reads at
// a time, and one that can after them: the job pages past the failing ones,
// serves the last, and leaves the others for later.
func TestRecoveryJobSkipsFailingMobileIDs(t *testing.T) {
	e := newEnv(t, testenv.DSN(t, "sqlite"))
	ctx := context.Background()
	var ms []*lanyard.MobileID
	for i := range 52 {
		opts := "{"
		if i == 51 {
			opts = "{}"
		}
		ms = append(ms, e.pendingRecovery(t, "user"+strconv.Itoa(i), opts))
	}
	n, err := e.svc.RunRecoveries(ctx)
	if err != nil || n != 1 {
		t.Fatalf("served %d, %v", n, err)
	}
	for i, m := range ms {
		m, err := e.db.FindMobileID(ctx, m.ID)
		if want := i < 51; err != nil || m.RecoveryPending != want {
			t.Fatalf("mobile ID %d: pending %t, want %t (%v)", i, m.RecoveryPending, want, err)
		}
	}
}

// pendingRecovery gives a new user an active mobile ID waiting for
// recovered keys, from a process that started with the options opts.
func (e *env) pendingRecovery(t *testing.T, username, opts string) *lanyard.MobileID {
	t.Helper()
	ctx := context.Background()
	u := e.addUser(t, username)
	m := &lanyard.MobileID{PublicID: rand.Text(), UserID: u.ID, State: lanyard.MobileIDRegistered, Process: mobileid.GetProcess,
		ProfileName: "MobileID", ServerName: "Smart ID", ProfileUser: u.Email, DeviceName: "phone", TransportKey: make([]byte, 32), RecoveryPending: true}
	en := &lanyard.Enrollment{PublicID: rand.Text(), UserID: u.ID, Process: m.Process, Step: lanyard.StepActivation, Options: []byte(opts)}
	if err := e.db.CreateEnrollment(ctx, lanyard.SystemActor, en); err != nil {
		t.Fatal(err)
	}
	code := mobileid.HashCode(rand.Text())
	if err := e.db.SetActivationCode(ctx, lanyard.SystemActor, en, &lanyard.ActivationCode{Hash: code, ExpiresAt: time.Now().Add(time.Hour), MobileID: m}); err != nil {
		t.Fatal(err)
	}
	c, err := e.ca.SignCertificate(u, lanyard.UsageSignature, csr(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.EnrollMobileID(ctx, lanyard.SystemActor, code, m, []lanyard.SignedCertificate{{Certificate: c}}); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEnrollAgainAfterALostAnswer sends the same enrollment twice, as an
// app does that lost the answer: the second gets the same mobile ID and
// certificates, and nothing new is issued. Another app with the used code
// is refused.
func TestEnrollAgainAfterALostAnswer(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ctx := context.Background()
		u := e.addUser(t, "alice")
		actor := lanyard.Actor{Username: u.Username}
		en, err := e.svc.Start(ctx, actor, u, mobileid.StartRequest{})
		if err != nil {
			t.Fatal(err)
		}
		a, err := e.svc.Activate(ctx, actor, u, en.PublicID)
		if err != nil {
			t.Fatal(err)
		}
		req := e.enrollRequest(t, a.Link)
		first, err := e.svc.Enroll(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.svc.Enroll(ctx, req)
		if err != nil {
			t.Fatalf("the same enrollment again: %v", err)
		}
		if again.MobileID.PublicID != first.MobileID.PublicID || len(again.Certificates) != len(first.Certificates) {
			t.Fatalf("answered %s with %d certificates, first %s with %d", again.MobileID.PublicID, len(again.Certificates),
				first.MobileID.PublicID, len(first.Certificates))
		}
		for i := range first.Certificates {
			if again.Certificates[i].Serial != first.Certificates[i].Serial {
				t.Fatalf("certificate %d: %s, first %s", i, again.Certificates[i].Serial, first.Certificates[i].Serial)
			}
		}
		certs, _ := e.ca.FindCertificatesByUser(ctx, u.ID)
		if len(certs) != len(first.Certificates) {
			t.Fatalf("%d certificates issued for %d", len(certs), len(first.Certificates))
		}
		other := e.enrollRequest(t, a.Link)
		if _, err := e.svc.Enroll(ctx, other); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
			t.Fatalf("another app with the used code: %v", err)
		}
	})
}
