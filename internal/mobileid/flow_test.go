package mobileid_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/mobileid"
)

// getMobileID runs "Get mobile ID" for u from the first step to Next, with
// the app enrolling in between, locking u's active mobile ID when lock is
// set, and returns the new mobile ID.
func (e *env) getMobileID(t *testing.T, u *lanyard.User, lock bool) *lanyard.MobileID {
	t.Helper()
	ctx := context.Background()
	actor := lanyard.Actor{Username: u.Username}
	en, err := e.svc.Start(ctx, actor, u.ID, mobileid.StartRequest{LockExisting: lock})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	a, err := e.svc.Activate(ctx, actor, u.ID, en.PublicID)
	if err != nil {
		t.Fatalf("activate: %v", err)
	}
	if _, err := e.svc.Enroll(ctx, e.enrollRequest(t, a.Link)); err != nil {
		t.Fatalf("enroll: %v", err)
	}
	m, err := e.svc.Finish(ctx, actor, u.ID, en.PublicID)
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	return m
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
