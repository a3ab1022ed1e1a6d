package wallet_test

import (
	"crypto/hpke"
	"encoding/json"
	"encoding/pem"
	"reflect"
	"testing"

	"github.com/lanyard-id/lanyard/internal/wallet"
)

func TestViewJSON(t *testing.T) {
	empty, err := wallet.Create(t.TempDir(), testPIN)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(empty.View()); string(b) != "[]" {
		t.Errorf("empty wallet view = %s, want []", b)
	}
	w, _, _ := twoProfiles(t)
	b, err := json.Marshal(w.View())
	if err != nil {
		t.Fatal(err)
	}
	var view []map[string]any
	if err := json.Unmarshal(b, &view); err != nil || len(view) != 2 {
		t.Fatalf("view = %s, %v", b, err)
	}
	if keys := sortedKeys(view[0]); !reflect.DeepEqual(keys, []string{"certificates", "profile_name", "server_name", "state", "user_id"}) {
		t.Errorf("profile keys = %v", keys)
	}
	if view[0]["profile_name"] != "MobileID Alice" || view[1]["server_name"] != "Other Server" || view[0]["state"] != "active" {
		t.Errorf("view = %s", b)
	}
	certs := view[0]["certificates"].([]any)
	if len(certs) != 4 {
		t.Fatalf("Alice has %d certificates in the view, want 4", len(certs))
	}
	wantUsage := []string{"signature", "authentication", "encryption", "encryption"}
	for i, c := range certs {
		c := c.(map[string]any)
		if keys := sortedKeys(c); !reflect.DeepEqual(keys, []string{"pem", "recovered", "usage"}) {
			t.Errorf("certificate keys = %v", keys)
		}
		if block, _ := pem.Decode([]byte(c["pem"].(string))); block == nil || block.Type != "CERTIFICATE" {
			t.Errorf("certificate %d pem is not a PEM certificate", i)
		}
		if c["usage"] != wantUsage[i] || c["recovered"] != (i == 3) {
			t.Errorf("certificate %d = %v/%v", i, c["usage"], c["recovered"])
		}
	}
}

func TestTransportKeyOpensHPKE(t *testing.T) {
	var p wallet.Profile
	if err := p.GenerateKeys(); err != nil {
		t.Fatal(err)
	}
	pub, err := hpke.NewDHKEMPublicKey(p.TransportKey.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := hpke.Seal(pub, hpke.HKDFSHA256(), hpke.AES256GCM(), []byte("lanyard key delivery"), []byte("PKCS #8"))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := hpke.NewDHKEMPrivateKey(p.TransportKey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := hpke.Open(priv, hpke.HKDFSHA256(), hpke.AES256GCM(), []byte("lanyard key delivery"), sealed)
	if err != nil || string(got) != "PKCS #8" {
		t.Fatalf("hpke.Open = %q, %v", got, err)
	}
}
