package wallet_test

import (
	"bytes"
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/wallet"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w, err := wallet.Create(dir, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	added, err := w.AddProfile(newProfile(t, "MobileID Alice", "Smart ID"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Save(); err != nil {
		t.Fatal(err)
	}
	opened, err := wallet.Open(dir, testPIN)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	got := opened.Profiles()
	if len(got) != 1 {
		t.Fatalf("got %d profiles, want 1", len(got))
	}
	p := got[0]
	if p.ID != added.ID || p.ProfileName != added.ProfileName || p.ServerName != added.ServerName ||
		p.UserID != added.UserID || p.ServerURL != added.ServerURL || p.DeviceName != added.DeviceName ||
		p.State != added.State || p.DeviceCredential != added.DeviceCredential {
		t.Errorf("profile = %+v, want %+v", p, added)
	}
	if !p.SignatureKey.Equal(added.SignatureKey) || !p.AuthenticationKey.Equal(added.AuthenticationKey) ||
		!p.TransportKey.Equal(added.TransportKey) {
		t.Error("device keys did not survive the round trip")
	}
	if len(p.Certificates) != len(added.Certificates) || len(p.CAChain) != 1 || !p.CAChain[0].Equal(added.CAChain[0]) {
		t.Fatalf("got %d certificates and %d CA certificates", len(p.Certificates), len(p.CAChain))
	}
	for i, c := range p.Certificates {
		want := added.Certificates[i]
		if c.Usage != want.Usage || c.Recovered != want.Recovered || !c.Certificate.Equal(want.Certificate) {
			t.Errorf("certificate %d = %s/%v, want %s/%v", i, c.Usage, c.Recovered, want.Usage, want.Recovered)
		}
		if (c.Key == nil) != (want.Key == nil) || (c.Key != nil && !want.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(c.Key.Public())) {
			t.Errorf("certificate %d: key did not survive the round trip", i)
		}
	}
}

func TestWrongPINIsRefused(t *testing.T) {
	dir := t.TempDir()
	w, err := wallet.Create(dir, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddProfile(newProfile(t, "MobileID Alice", "Smart ID")); err != nil {
		t.Fatal(err)
	}
	if err := w.Save(); err != nil {
		t.Fatal(err)
	}
	before := walletFile(t, dir)
	for _, pin := range []string{"0000", testPIN + "\n", "", "4711-secreT"} {
		_, err := wallet.Open(dir, pin)
		if !errors.Is(err, wallet.ErrWrongPIN) {
			t.Errorf("Open with PIN %q: %v, want ErrWrongPIN", pin, err)
		}
		if lanyard.ErrorCode(err) != lanyard.EUNAUTHORIZED {
			t.Errorf("error code = %q", lanyard.ErrorCode(err))
		}
	}
	if !bytes.Equal(before, walletFile(t, dir)) {
		t.Error("a wrong PIN changed the wallet file")
	}
	if _, err := wallet.OpenOrCreate(dir, "0000"); !errors.Is(err, wallet.ErrWrongPIN) {
		t.Errorf("OpenOrCreate with a wrong PIN: %v, want ErrWrongPIN", err)
	}
	if _, err := wallet.Open(dir, testPIN); err != nil {
		t.Errorf("the right PIN no longer opens the wallet: %v", err)
	}
}

func TestFolderIsCreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing", "wallet")
	if _, err := wallet.Open(dir, testPIN); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		t.Fatalf("Open of a missing wallet: %v, want not_found", err)
	}
	w, err := wallet.OpenOrCreate(dir, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Profiles()) != 0 {
		t.Error("a new wallet has profiles")
	}
	for path, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, filepath.Join(dir, wallet.FileName): 0o600} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != want {
			t.Errorf("%s has mode %v, want %v", path, info.Mode(), want)
		}
	}
	if _, err := wallet.Create(dir, testPIN); lanyard.ErrorCode(err) != lanyard.ECONFLICT {
		t.Errorf("Create over an existing wallet: %v, want conflict", err)
	}
	if _, err := wallet.OpenOrCreate(dir, testPIN); err != nil {
		t.Errorf("OpenOrCreate of the existing wallet: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the wallet folder holds %d entries, want only %s", len(entries), wallet.FileName)
	}
}

func TestShortPINIsRefused(t *testing.T) {
	if _, err := wallet.Create(t.TempDir(), "123"); lanyard.ErrorCode(err) != lanyard.EINVALID {
		t.Errorf("Create with a 3-character PIN: %v, want invalid", err)
	}
}

func TestChangePIN(t *testing.T) {
	dir := t.TempDir()
	w, err := wallet.Create(dir, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddProfile(newProfile(t, "MobileID Alice", "Smart ID")); err != nil {
		t.Fatal(err)
	}
	if err := w.ChangePIN("new-PIN-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := wallet.Open(dir, testPIN); !errors.Is(err, wallet.ErrWrongPIN) {
		t.Errorf("old PIN: %v, want ErrWrongPIN", err)
	}
	w2, err := wallet.Open(dir, "new-PIN-2")
	if err != nil || len(w2.Profiles()) != 1 {
		t.Errorf("new PIN: %v", err)
	}
}
