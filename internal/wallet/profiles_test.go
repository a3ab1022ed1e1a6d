package wallet_test

import (
	"crypto"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/wallet"
)

// twoProfiles returns a reopened wallet holding Alice's profile on one
// server and Bob's on another.
func twoProfiles(t *testing.T) (*wallet.Wallet, wallet.Profile, wallet.Profile) {
	t.Helper()
	dir := t.TempDir()
	w, err := wallet.Create(dir, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	alice, err := w.AddProfile(newProfile(t, "MobileID Alice", "Smart ID"))
	if err != nil {
		t.Fatal(err)
	}
	bob, err := w.AddProfile(newProfile(t, "MobileID Bob", "Other Server"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Save(); err != nil {
		t.Fatal(err)
	}
	w, err = wallet.Open(dir, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	return w, alice, bob
}

func TestTwoProfilesInOneWallet(t *testing.T) {
	w, alice, bob := twoProfiles(t)
	got := w.Profiles()
	if len(got) != 2 || got[0].ID != alice.ID || got[1].ID != bob.ID || alice.ID == bob.ID {
		t.Fatalf("profiles = %d, want Alice then Bob with distinct IDs", len(got))
	}
	tests := []struct {
		name, profile, wantID string
		usage                 wallet.Usage
	}{
		{"first active profile signs", "", alice.ID, wallet.UsageSignature},
		{"by name", "MobileID Bob", bob.ID, wallet.UsageSignature},
		{"by ID", bob.ID, bob.ID, wallet.UsageAuthentication},
		{"authentication", "", alice.ID, wallet.UsageAuthentication},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			find := w.SigningIdentity
			want := got[0].SignatureKey
			if tt.usage == wallet.UsageAuthentication {
				find = w.AuthenticationIdentity
			}
			id, err := find(tt.profile)
			if err != nil {
				t.Fatal(err)
			}
			if id.ProfileID != tt.wantID || len(id.Chain) != 1 {
				t.Errorf("identity of profile %s with %d CA certificates", id.ProfileName, len(id.Chain))
			}
			if tt.wantID == alice.ID && tt.usage == wallet.UsageSignature && !want.Equal(id.Key) {
				t.Error("the signing key is not Alice's signature key")
			}
			if !id.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(id.Certificate.PublicKey) {
				t.Error("identity key does not match its certificate")
			}
		})
	}
	keys := w.DecryptionKeys()
	if len(keys) != 4 {
		t.Fatalf("DecryptionKeys = %d, want 4 (current and recovered, both profiles)", len(keys))
	}
	for _, k := range keys {
		if _, ok := k.Key.(crypto.Decrypter); !ok {
			t.Errorf("decryption key of %s is not a crypto.Decrypter", k.ProfileName)
		}
	}
}

func TestInactiveProfilesDoNotSign(t *testing.T) {
	w, alice, bob := twoProfiles(t)
	alice.State = wallet.StateLocked
	if err := w.UpdateProfile(alice); err != nil {
		t.Fatal(err)
	}
	id, err := w.SigningIdentity("")
	if err != nil || id.ProfileID != bob.ID {
		t.Fatalf("SigningIdentity = %s, %v; want Bob's", id.ProfileName, err)
	}
	if _, err := w.SigningIdentity("MobileID Alice"); lanyard.ErrorCode(err) != lanyard.ECONFLICT {
		t.Errorf("signing with a locked profile: %v, want conflict", err)
	}
	bob.State = wallet.StateInactive
	if err := w.UpdateProfile(bob); err != nil {
		t.Fatal(err)
	}
	if _, err := w.SigningIdentity(""); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		t.Errorf("signing with no active profile: %v, want not_found", err)
	}
	if n := len(w.DecryptionKeys()); n != 4 {
		t.Errorf("DecryptionKeys of locked and inactive profiles = %d, want 4", n)
	}
}

func TestProfilesAreCopies(t *testing.T) {
	w, _, _ := twoProfiles(t)
	got := w.Profiles()
	got[0].State = wallet.StateLocked
	got[0].Certificates[0].Usage = "bogus"
	if p := w.Profiles()[0]; p.State != wallet.StateActive || p.Certificates[0].Usage != wallet.UsageSignature {
		t.Error("changing a returned profile changed the wallet")
	}
}

func TestUpdateAndRemoveProfile(t *testing.T) {
	w, alice, bob := twoProfiles(t)
	bad := alice
	bad.Certificates = append(bad.Certificates, wallet.Certificate{Usage: "other", Certificate: alice.Certificates[0].Certificate})
	if err := w.UpdateProfile(bad); lanyard.ErrorCode(err) != lanyard.EINVALID {
		t.Errorf("UpdateProfile with a bad usage: %v, want invalid", err)
	}
	mismatch := alice
	mismatch.Certificates = []wallet.Certificate{{Usage: wallet.UsageEncryption, Certificate: alice.Certificates[2].Certificate, Key: bob.Certificates[2].Key}}
	if _, err := w.AddProfile(mismatch); lanyard.ErrorCode(err) != lanyard.EINVALID {
		t.Errorf("AddProfile with a key of another certificate: %v, want invalid", err)
	}
	if _, err := w.AddProfile(wallet.Profile{}); lanyard.ErrorCode(err) != lanyard.EINVALID {
		t.Errorf("AddProfile without a name: %v, want invalid", err)
	}
	if err := w.RemoveProfile(alice.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Find("MobileID Alice"); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		t.Errorf("Find after RemoveProfile: %v, want not_found", err)
	}
	if err := w.UpdateProfile(alice); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		t.Errorf("UpdateProfile of a removed profile: %v, want not_found", err)
	}
}

func TestFindPrefersTheLatestUnlockedProfile(t *testing.T) {
	w, err := wallet.Create(t.TempDir(), testPIN)
	if err != nil {
		t.Fatal(err)
	}
	old := newProfile(t, "MobileID Alice", "Smart ID")
	old.Certificates = nil
	first, _ := w.AddProfile(old)
	second, _ := w.AddProfile(old)
	if p, _ := w.Find("MobileID Alice"); p.ID != second.ID {
		t.Error("Find did not return the latest profile of that name")
	}
	second.State = wallet.StateLocked
	if err := w.UpdateProfile(second); err != nil {
		t.Fatal(err)
	}
	if p, _ := w.Find("MobileID Alice"); p.ID != first.ID {
		t.Error("Find returned a locked profile over an active one")
	}
}
