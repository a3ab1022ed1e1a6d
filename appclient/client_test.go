package appclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/appclient"
)

// fakeServer serves handler under /prefix, as a reverse proxy that strips
// a path prefix would, and returns a client for it.
func fakeServer(t *testing.T, handler http.HandlerFunc) *appclient.Client {
	t.Helper()
	srv := httptest.NewServer(http.StripPrefix("/prefix", handler))
	t.Cleanup(srv.Close)
	return &appclient.Client{BaseURL: srv.URL + "/prefix/", HTTP: srv.Client()}
}

// readJSON decodes a request body into a generic object.
func readJSON(t *testing.T, r *http.Request) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		t.Errorf("request body: %v", err)
	}
	return m
}

// keys returns the sorted keys of a JSON object.
func keys(m any) []string {
	obj, _ := m.(map[string]any)
	return slices.Sorted(maps.Keys(obj))
}

func TestClientEnroll(t *testing.T) {
	want := appclient.EnrollResponse{MobileID: "m-1", State: "active", ProfileName: "MobileID Alice", ServerName: "Smart ID",
		UserID: "alice@example.com", Certificates: []appclient.Certificate{{Usage: "signature", Serial: "1a", Certificate: []byte{1, 2}}},
		EncryptionKeys: []appclient.EncryptionKey{{Serial: "2b", Certificate: []byte{3}, SealedKey: []byte{4, 5}}},
		Chain:          [][]byte{{6}, {7}}, RecoveryPending: true}
	client := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/app/v1/enroll" {
			t.Errorf("request = %s %s", r.Method, r.URL.Path)
		}
		body := readJSON(t, r)
		if got := keys(body); !reflect.DeepEqual(got, []string{"code", "csrs", "device_name", "transport_key"}) {
			t.Errorf("body keys = %v", got)
		}
		if got := keys(body["csrs"]); !reflect.DeepEqual(got, []string{"authentication", "signature"}) {
			t.Errorf("csrs keys = %v", got)
		}
		if body["code"] != "abc" || body["device_name"] != "Alice's phone" || body["transport_key"] != base64.StdEncoding.EncodeToString([]byte{9, 9}) {
			t.Errorf("body = %v", body)
		}
		if r.Header.Get(appclient.HeaderSignature) != "" {
			t.Error("enroll is device-signed; it must not be")
		}
		json.NewEncoder(w).Encode(want)
	})
	got, err := client.Enroll(context.Background(), appclient.EnrollRequest{Code: "abc", DeviceName: "Alice's phone",
		TransportKey: []byte{9, 9}, CSRs: appclient.CSRs{Signature: []byte{1}, Authentication: []byte{2}}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("Enroll = %+v\nwant %+v", *got, want)
	}
}

func TestClientSyncIsDeviceSigned(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	client := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodGet || r.RequestURI != "/prefix/app/v1/sync" || len(body) != 0 {
			t.Errorf("request = %s %s with %d body bytes", r.Method, r.RequestURI, len(body))
		}
		if got := r.Header.Get(appclient.HeaderDevice); got != "m-1" {
			t.Errorf("%s = %q", appclient.HeaderDevice, got)
		}
		ts, err := strconv.ParseInt(r.Header.Get(appclient.HeaderTimestamp), 10, 64)
		if err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
			t.Errorf("%s = %q", appclient.HeaderTimestamp, r.Header.Get(appclient.HeaderTimestamp))
		}
		sig, err := base64.StdEncoding.DecodeString(r.Header.Get(appclient.HeaderSignature))
		// The path signed is the one relative to the base URL.
		digest := sha256.Sum256(appclient.DevicePayload(r.Method, r.URL.RequestURI(), ts, body))
		if err != nil || !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
			t.Errorf("device signature does not verify (%v)", err)
		}
		w.Write([]byte(`{"mobile_id":"m-1","state":"active","encryption_keys":[{"serial":"ab","certificate":"AQ==","recovered":true,"sealed_key":"Ag=="}],"recovery_pending":false}`))
	})
	got, err := client.Sync(context.Background(), "m-1", key)
	if err != nil {
		t.Fatal(err)
	}
	want := appclient.SyncResponse{MobileID: "m-1", State: "active",
		EncryptionKeys: []appclient.EncryptionKey{{Serial: "ab", Certificate: []byte{1}, Recovered: true, SealedKey: []byte{2}}}}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("Sync = %+v", *got)
	}
}

func TestClientChallengeVerify(t *testing.T) {
	client := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/app/v1/auth/challenge":
			if body := readJSON(t, r); len(body) != 0 || r.Method != http.MethodPost {
				t.Errorf("challenge request = %s %v", r.Method, body)
			}
			w.Write([]byte(`{"challenge_id":"c-1","challenge":"q83v","expires_at":"2026-11-25T12:00:00Z"}`))
		case "/app/v1/auth/verify":
			body := readJSON(t, r)
			if got := keys(body); !reflect.DeepEqual(got, []string{"certificate", "challenge_id", "signature"}) || body["signature"] != "AQI=" {
				t.Errorf("verify body = %v", body)
			}
			w.Write([]byte(`{"username":"alice","user_id":"alice@example.com","common_name":"Alice","mobile_id":"m-1","profile_name":"P"}`))
		default:
			t.Errorf("unexpected %s", r.URL.Path)
		}
	})
	ch, err := client.Challenge(context.Background())
	if err != nil || ch.ChallengeID != "c-1" || ch.Challenge != "q83v" || !ch.ExpiresAt.Equal(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("Challenge = %+v, %v", ch, err)
	}
	v, err := client.Verify(context.Background(), appclient.VerifyRequest{ChallengeID: "c-1", Certificate: []byte{0}, Signature: []byte{1, 2}})
	if err != nil || v.Username != "alice" || v.CommonName != "Alice" {
		t.Fatalf("Verify = %+v, %v", v, err)
	}
}
