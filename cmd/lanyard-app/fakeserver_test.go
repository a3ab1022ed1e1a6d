package main

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/wallet"
)

// fakeServer plays the server side of the app API for one user, Alice,
// with one activation code, so that the app's flows can be tested
// without the real server. It checks what the app sends as strictly as
// the contract asks.
type fakeServer struct {
	t   *testing.T
	ca  *testCA
	url string

	mu         sync.Mutex
	code       string // the activation code; emptied once used
	authCert   *x509.Certificate
	transport  *ecdh.PublicKey
	encKeys    []appclient.EncryptionKey
	recovered  appclient.EncryptionKey
	syncs      int
	challenges map[string]string
}

func newFakeServer(t *testing.T, ca *testCA) *fakeServer {
	f := &fakeServer{t: t, ca: ca, code: "good-code", challenges: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /app/v1/enroll", f.enroll)
	mux.HandleFunc("GET /app/v1/sync", f.sync)
	mux.HandleFunc("POST /app/v1/auth/challenge", f.challenge)
	mux.HandleFunc("POST /app/v1/auth/verify", f.verify)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// answer writes a JSON answer.
func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// fail writes an error answer.
func fail(w http.ResponseWriter, status int, code, message string) {
	answer(w, status, appclient.ErrorBody{Error: appclient.ErrorDetail{Code: code, Message: message}})
}

func (f *fakeServer) enroll(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var req appclient.EnrollRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.DeviceName == "" {
		fail(w, 400, "invalid", "The request is malformed.")
		return
	}
	if req.Code != f.code || f.code == "" {
		fail(w, 404, "not_found", "The activation code is unknown or was used.")
		return
	}
	f.code = ""
	var err error
	if f.transport, err = ecdh.X25519().NewPublicKey(req.TransportKey); err != nil {
		fail(w, 400, "invalid", "Bad transport key.")
		return
	}
	resp := appclient.EnrollResponse{MobileID: "m-1", State: "active", ProfileName: "MobileID Alice Example",
		ServerName: "Smart ID", UserID: "alice@example.com", Chain: [][]byte{f.ca.cert.Raw}, RecoveryPending: true}
	for usage, der := range map[wallet.Usage][]byte{wallet.UsageSignature: req.CSRs.Signature, wallet.UsageAuthentication: req.CSRs.Authentication} {
		csr, err := x509.ParseCertificateRequest(der)
		if err != nil || csr.CheckSignature() != nil {
			fail(w, 400, "invalid", "Bad CSR.")
			return
		}
		cert := f.ca.certify(f.t, usage, csr.PublicKey)
		if usage == wallet.UsageAuthentication {
			f.authCert = cert
		}
		resp.Certificates = append(resp.Certificates, appclient.Certificate{Usage: string(usage), Serial: cert.SerialNumber.Text(16), Certificate: cert.Raw})
	}
	f.encKeys = []appclient.EncryptionKey{f.sealed(0, false)}
	f.recovered = f.sealed(1, true)
	resp.EncryptionKeys = f.encKeys
	answer(w, 200, resp)
}

// sealed makes an encryption certificate for the i-th test RSA key and
// seals the key to the device.
func (f *fakeServer) sealed(i int, recovered bool) appclient.EncryptionKey {
	key := rsaKey(f.t, i)
	cert := f.ca.certify(f.t, wallet.UsageEncryption, key.Public())
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	sealed, err := appclient.SealKey(f.transport, cert.SerialNumber.Text(16), pkcs8)
	if err != nil {
		f.t.Error(err)
	}
	return appclient.EncryptionKey{Serial: cert.SerialNumber.Text(16), Certificate: cert.Raw, Recovered: recovered, SealedKey: sealed}
}

// sync delivers the recovered key from the second call on, as a
// background job would.
func (f *fakeServer) sync(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	ts, _ := strconv.ParseInt(r.Header.Get(appclient.HeaderTimestamp), 10, 64)
	sig, _ := base64.StdEncoding.DecodeString(r.Header.Get(appclient.HeaderSignature))
	digest := sha256.Sum256(appclient.DevicePayload(r.Method, r.URL.RequestURI(), ts, body))
	if r.Header.Get(appclient.HeaderDevice) != "m-1" || f.authCert == nil ||
		!ecdsa.VerifyASN1(f.authCert.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
		fail(w, 401, "unauthorized", "The device signature does not verify.")
		return
	}
	f.syncs++
	if f.syncs == 2 {
		f.encKeys = append(f.encKeys, f.recovered)
	}
	answer(w, 200, appclient.SyncResponse{MobileID: "m-1", State: "active", EncryptionKeys: f.encKeys, RecoveryPending: f.syncs < 2})
}

func (f *fakeServer) challenge(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := rand.Text()
	f.challenges[id] = base64.StdEncoding.EncodeToString([]byte(rand.Text()))
	answer(w, 200, appclient.ChallengeResponse{ChallengeID: id, Challenge: f.challenges[id]})
}

func (f *fakeServer) verify(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var req appclient.VerifyRequest
	json.NewDecoder(r.Body).Decode(&req)
	challenge, ok := f.challenges[req.ChallengeID]
	delete(f.challenges, req.ChallengeID)
	cert, err := x509.ParseCertificate(req.Certificate)
	digest := sha256.Sum256(appclient.AuthPayload(appclient.Origin(f.url), req.ChallengeID, challenge))
	if !ok || err != nil || f.authCert == nil || !cert.Equal(f.authCert) ||
		!ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), digest[:], req.Signature) {
		fail(w, 401, "unauthorized", "The challenge response does not verify.")
		return
	}
	answer(w, 200, appclient.VerifyResponse{Username: "alice", UserID: "alice@example.com", CommonName: "Alice Example", MobileID: "m-1"})
}
