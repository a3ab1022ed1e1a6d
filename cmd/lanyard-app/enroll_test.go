package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/wallet"
)

// TestEnrollSyncAuthenticate drives the app through its life against a
// fake server: enroll from a QR code, fetch the recovered key, sync
// again, authenticate and sign.
func TestEnrollSyncAuthenticate(t *testing.T) {
	f := newFakeServer(t, newCA(t))
	dir := filepath.Join(t.TempDir(), "new", "wallet")
	pin := pinFile(t, testPIN)
	app := func(args ...string) result {
		return runApp(t, "", append([]string{"--wallet", dir, "--pin-file", pin}, args...)...)
	}

	qr := qrPNG(t, appclient.EnrollmentLink(f.url, "good-code"))
	r := app("enroll", qr, "--device", "Alice's phone")
	if r.code != 0 || r.stdout != "MobileID Alice Example\n" {
		t.Fatalf("enroll: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "1 new encryption key recovered") {
		t.Errorf("enroll stderr = %q, want a note on the recovered key", r.stderr)
	}

	r = app("profiles", "--json")
	var view []struct {
		ProfileName  string `json:"profile_name"`
		Certificates []struct {
			Usage     string `json:"usage"`
			Recovered bool   `json:"recovered"`
		} `json:"certificates"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &view); err != nil || len(view) != 1 || len(view[0].Certificates) != 4 {
		t.Fatalf("profiles --json = %s (%v)", r.stdout, err)
	}
	if c := view[0].Certificates[3]; c.Usage != "encryption" || !c.Recovered || view[0].Certificates[2].Recovered {
		t.Errorf("certificates = %+v", view[0].Certificates)
	}

	// The code is used once; the server says so and the app repeats it.
	wantFailure(t, app("enroll", appclient.EnrollmentLink(f.url, "good-code")), 1, "unknown or was used. (not_found)")

	if r := app("sync"); r.code != 0 || r.stdout != "0 new encryption keys\n" {
		t.Errorf("sync: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, url := range []string{f.url, f.url + "/", f.url + "/app/v1/auth/challenge"} {
		if r := app("authenticate", url); r.code != 0 || r.stdout != "alice\n" {
			t.Errorf("authenticate %s: exit %d, stdout %q, stderr %q", url, r.code, r.stdout, r.stderr)
		}
	}
	content := writeFile(t, "doc.txt", []byte("hello"))
	if r := app("sign", "--in", content, "--out", content+".p7s"); r.code != 0 {
		t.Errorf("sign: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestSyncRefused(t *testing.T) {
	f := newFakeServer(t, newCA(t))
	dir := newWallet(t, newCA(t))
	// The wallet's profile points at the fake server, which does not know
	// its authentication key.
	sameServerWallet(t, dir, f.url)
	r := runApp(t, "", "--wallet", dir, "--pin-file", pinFile(t, testPIN), "sync")
	wantFailure(t, r, 1, `sync "MobileID Alice Example": The device signature does not verify. (unauthorized)`)
	if r.stdout != "0 new encryption keys\n" {
		t.Errorf("stdout = %q", r.stdout)
	}
}

// sameServerWallet points every profile of the wallet in dir at url.
func sameServerWallet(t *testing.T, dir, url string) {
	t.Helper()
	w, err := wallet.Open(dir, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range w.Profiles() {
		p.ServerURL = url
		if err := w.UpdateProfile(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Save(); err != nil {
		t.Fatal(err)
	}
}
