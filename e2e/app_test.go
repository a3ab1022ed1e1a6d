package e2e_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// phone is one lanyard-app wallet: a folder protected by a PIN, as a phone
// holds it. Its commands run the real lanyard-app program.
type phone struct {
	t   testing.TB
	dir string
	pin string
}

// newPhone returns a phone with an empty wallet folder that the first
// enrollment creates.
func newPhone(t testing.TB) *phone {
	t.Helper()
	return &phone{t: t, dir: filepath.Join(t.TempDir(), "wallet"), pin: "pin-" + randomText()}
}

// run runs lanyard-app on the wallet with the PIN in LANYARD_APP_PIN.
func (p *phone) run(args ...string) result {
	p.t.Helper()
	env := childEnv("LANYARD_APP_PIN=" + p.pin)
	return runBinary(p.t, appBin, env, append([]string{"--wallet", p.dir}, args...)...)
}

// must runs lanyard-app and fails the test unless it succeeds.
func (p *phone) must(args ...string) result {
	p.t.Helper()
	r := p.run(args...)
	if r.code != 0 {
		p.t.Fatalf("lanyard-app %s: exit code %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// enroll activates a mobile ID from a QR code PNG or an enrollment link
// and returns the profile name the app printed.
func (p *phone) enroll(source string) string {
	p.t.Helper()
	return strings.TrimSpace(p.must("enroll", "--device", "Alice's test phone", source).stdout)
}

// appProfile is one profile as `lanyard-app profiles --json` prints it.
type appProfile struct {
	ProfileName  string    `json:"profile_name"`
	ServerName   string    `json:"server_name"`
	UserID       string    `json:"user_id"`
	State        string    `json:"state"`
	Certificates []appCert `json:"certificates"`
}

// appCert is one certificate of a profile in the wallet.
type appCert struct {
	Usage     string `json:"usage"`
	Recovered bool   `json:"recovered"`
	PEM       string `json:"pem"`
}

// parse decodes the certificate, failing the test if it is not one.
func (c appCert) parse(t testing.TB) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode([]byte(c.PEM))
	if b == nil || b.Type != "CERTIFICATE" {
		t.Fatalf("the wallet's %s certificate is not a PEM certificate: %q", c.Usage, c.PEM)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatalf("the wallet's %s certificate: %v", c.Usage, err)
	}
	return cert
}

// profiles lists the wallet's profiles.
func (p *phone) profiles() []appProfile {
	p.t.Helper()
	r := p.must("profiles", "--json")
	var out []appProfile
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		p.t.Fatalf("lanyard-app profiles --json printed no JSON array of profiles (%v):\n%s", err, r.stdout)
	}
	return out
}

// profile returns the wallet's only profile of the given name.
func (p *phone) profile(name string) appProfile {
	p.t.Helper()
	var found []appProfile
	var names []string
	for _, pr := range p.profiles() {
		names = append(names, pr.ProfileName)
		if pr.ProfileName == name {
			found = append(found, pr)
		}
	}
	if len(found) != 1 {
		p.t.Fatalf("the wallet holds %d profiles named %q, want 1; its profiles: %q", len(found), name, names)
	}
	return found[0]
}

// certs returns the profile's certificates of a usage, recovered or not.
func (pr appProfile) certs(usage string, recovered bool) []appCert {
	var out []appCert
	for _, c := range pr.Certificates {
		if c.Usage == usage && c.Recovered == recovered {
			out = append(out, c)
		}
	}
	return out
}

// cert returns the profile's one certificate of a usage that is its own,
// not recovered, or fails the test.
func (pr appProfile) cert(t testing.TB, usage string) appCert {
	t.Helper()
	cs := pr.certs(usage, false)
	if len(cs) != 1 {
		t.Fatalf("profile %q holds %d %s certificates, want 1: %+v", pr.ProfileName, len(cs), usage, pr.Certificates)
	}
	return cs[0]
}

// syncUntil runs `lanyard-app sync` until the wallet holds a profile for
// which done holds, and fails the test if that takes longer than timeout.
// The server delivers recovered keys in the background, so a phone polls.
func (p *phone) syncUntil(timeout time.Duration, what string, done func([]appProfile) bool) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := p.must("sync")
		profiles := p.profiles()
		if done(profiles) {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("after syncing for %s the wallet still lacks %s; last sync printed %q; profiles: %s", timeout, what, r.stdout, summary(profiles))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// summary describes profiles briefly, for failure messages: each name
// with the usages of its certificates.
func summary(profiles []appProfile) string {
	var parts []string
	for _, p := range profiles {
		var certs []string
		for _, c := range p.Certificates {
			u := c.Usage
			if c.Recovered {
				u += " (recovered)"
			}
			certs = append(certs, u)
		}
		parts = append(parts, fmt.Sprintf("%q %s [%s]", p.ProfileName, p.State, strings.Join(certs, ", ")))
	}
	return strings.Join(parts, "; ")
}
