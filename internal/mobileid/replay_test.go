package mobileid_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"strconv"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/mobileid"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestReplayedDeviceRequestIsRefused authenticates a device-signed request
// and then the very same request again, as an eavesdropper replaying it
// would: the first passes, the replay is refused, and a fresh signature
// of the same request passes.
func TestReplayedDeviceRequestIsRefused(t *testing.T) {
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
		auth, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		req := e.enrollRequest(t, a.Link)
		authCSR, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, auth)
		if err != nil {
			t.Fatal(err)
		}
		req.CSRs[lanyard.UsageAuthentication] = authCSR
		res, err := e.svc.Enroll(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		signed := func() mobileid.DeviceRequest {
			ts := time.Now().Unix()
			digest := sha256.Sum256(appclient.DevicePayload("GET", "/app/v1/sync", ts, nil))
			sig, err := auth.Sign(rand.Reader, digest[:], crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			return mobileid.DeviceRequest{MobileID: res.MobileID.PublicID, Timestamp: strconv.FormatInt(ts, 10), Signature: sig,
				Method: "GET", PathAndQuery: "/app/v1/sync"}
		}
		first := signed()
		if _, err := e.svc.AuthenticateDevice(ctx, first); err != nil {
			t.Fatalf("first request: %v", err)
		}
		if _, err := e.svc.AuthenticateDevice(ctx, first); lanyard.ErrorCode(err) != lanyard.EUNAUTHORIZED {
			t.Fatalf("replayed request: %v", err)
		}
		if _, err := e.svc.AuthenticateDevice(ctx, signed()); err != nil {
			t.Fatalf("a fresh request: %v", err)
		}
	})
}
