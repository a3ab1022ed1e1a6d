package e2e_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

const (
	peopleDN    = "ou=people,dc=example,dc=org"
	operatorsDN = "cn=operators,ou=groups,dc=example,dc=org"
	adminsDN    = "cn=admins,ou=groups,dc=example,dc=org"
)

// directoryLDIF is an OpenLDAP directory of n people plus alice, with an
// operators group (groupOfNames) and an admins group (groupOfUniqueNames)
// outside the people's base DN.
func directoryLDIF(n int, alicePW string) string {
	var b strings.Builder
	b.WriteString("dn: " + peopleDN + "\nobjectClass: organizationalUnit\nou: people\n\n")
	b.WriteString("dn: ou=groups,dc=example,dc=org\nobjectClass: organizationalUnit\nou: groups\n\n")
	b.WriteString(aliceLDIF(alicePW))
	for i := range n {
		fmt.Fprintf(&b, "dn: uid=user%04d,%s\nobjectClass: inetOrgPerson\nuid: user%04d\ncn: User %04d\nsn: %04d\nmail: user%04d@example.org\nemployeeNumber: %d\nuserPassword: %s\n\n",
			i, peopleDN, i, i, i, i, 1000+i, testenv.SSHA(fmt.Sprintf("pw-%04d", i)))
	}
	b.WriteString("dn: " + operatorsDN + "\nobjectClass: groupOfNames\ncn: operators\nmember: uid=alice," + peopleDN + "\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "member: uid=user%04d,%s\n", i, peopleDN)
	}
	b.WriteString("\ndn: " + adminsDN + "\nobjectClass: groupOfUniqueNames\ncn: admins\nuniqueMember: UID=User0002, OU=People,DC=example,DC=org\n\n")
	return b.String()
}

func aliceLDIF(pw string) string {
	return "dn: uid=alice," + peopleDN + "\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice Example\nsn: Example\nmail: alice@example.org\nemployeeNumber: 7\nuserPassword: " + testenv.SSHA(pw) + "\n\n"
}

type listedUser struct {
	Username   string            `json:"username"`
	Email      string            `json:"email"`
	CommonName string            `json:"common_name"`
	State      string            `json:"state"`
	Roles      []string          `json:"roles"`
	Attributes map[string]string `json:"attributes"`
}

// TestDirectoryOpenLDAP runs Lanyard against a real slapd of 1,000 people:
// the sync at start adds them with their attributes and roles, a directory
// user logs in with the directory password and gets a mobile ID, a changed
// mail is carried over, a removed entry puts the user inactive and the
// certificates on hold, and its return releases them. A wrong bind
// password, a filter that would deactivate everyone and a directory that
// is down each change nothing and say why.
func TestDirectoryOpenLDAP(t *testing.T) {
	alicePW := "alice-" + randomText()
	slapd := testenv.StartSlapd(t, testenv.SlapdOptions{LDIF: directoryLDIF(1000, alicePW)})
	in := newInstance(t, "sqlite")
	// A local user whose name the directory also has is left alone.
	bossPW := "boss-" + randomText()
	addUser(t, in, "boss", bossPW, "--role", "admin")
	addUser(t, in, "user0005", "local-"+randomText())

	ldapArgs := []string{"--ldap-url", slapd.URL, "--ldap-bind-dn", slapd.AdminDN, "--ldap-bind-password-file", slapd.AdminPWFile,
		"--ldap-base-dn", peopleDN, "--ldap-group-operator", operatorsDN, "--ldap-group-admin", adminsDN,
		"--ldap-attributes", "employeeNumber", "--ldap-sync-interval", "1h"}
	s := startServer(t, in, ldapArgs...)
	s.waitReady()
	if !waitFor(readyTimeout*3, func() bool {
		return strings.Contains(fetch(t, nil, s.url+"/readyz", nil).body, "directory: synced")
	}) {
		t.Fatalf("/readyz never says the directory synced: %q; stderr:\n%s", fetch(t, nil, s.url+"/readyz", nil).body, s.stderr)
	}
	users := listUsers(t, in)
	if len(users) != 1000+1+1 {
		t.Fatalf("%d users after the first sync, want 999 people, alice, boss and the local user0005", len(users))
	}
	alice := users["alice"]
	if alice.Email != "alice@example.org" || !slices.Contains(alice.Roles, "operator") || slices.Contains(alice.Roles, "admin") ||
		alice.Attributes["employeeNumber"] != "7" || alice.State != "active" {
		t.Fatalf("alice after the sync: %+v", alice)
	}
	if u := users["user0002"]; !slices.Contains(u.Roles, "admin") || !slices.Contains(u.Roles, "operator") {
		t.Fatalf("user0002, in both groups: roles %v", u.Roles)
	}
	if u := users["user0500"]; len(u.Roles) != 1 || u.Attributes["employeeNumber"] != "1500" || u.Email != "user0500@example.org" {
		t.Fatalf("user0500: %+v", u)
	}
	if u := users["user0005"]; u.Email == "user0005@example.org" || slices.Contains(u.Roles, "operator") {
		t.Fatalf("the local user0005 was changed by the directory: %+v", u)
	}

	// The directory password logs alice in; Lanyard keeps none of it.
	ck := mustLogin(t, s.url, "alice", alicePW)
	if r := login(t, nil, s.url, "alice", "wrong-"+randomText()); r.status != http.StatusUnauthorized {
		t.Fatalf("a wrong directory password: status %d", r.status)
	}
	p := newPhone(t)
	getMobileIDOverHTTP(t, s, ck, "next", p)
	rp := newRelyingParty(t, s)
	sig := p.profile(aliceProfile).cert(t, "signature")
	if got := rp.ocsp("signature", sig.PEM); got != "good" {
		t.Fatalf("OCSP says %q for alice's new certificate", got)
	}

	sync := func(extra ...string) result {
		return runLanyard(t, nil, slices.Concat([]string{"directory", "sync"}, in.args(), ldapArgs, extra)...)
	}
	conn, err := ldap.DialURL(slapd.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Bind(slapd.AdminDN, slapd.AdminPW); err != nil {
		t.Fatal(err)
	}

	t.Run("wrong bind password", func(t *testing.T) {
		wrong := writeFile(t, t.TempDir(), "wrong.pw", "not-the-password\n")
		r := sync("--ldap-bind-password-file", wrong)
		if r.code != 1 || !strings.Contains(r.stderr, "directory: bind as --ldap-bind-dn refused") || strings.Count(r.stderr, "\n") != 1 {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
	})

	t.Run("changed mail", func(t *testing.T) {
		mod := ldap.NewModifyRequest("uid=alice,"+peopleDN, nil)
		mod.Replace("mail", []string{"alice.example@example.org"})
		if err := conn.Modify(mod); err != nil {
			t.Fatal(err)
		}
		dry := sync("--dry-run")
		if dry.code != 0 || strings.TrimSpace(dry.stdout) != "directory: 0 added, 1 updated, 0 deactivated, 0 reactivated" {
			t.Fatalf("dry run: exit %d, stdout %q, stderr %q", dry.code, dry.stdout, dry.stderr)
		}
		if got := listUsers(t, in)["alice"].Email; got != "alice@example.org" {
			t.Fatalf("the dry run changed the email to %s", got)
		}
		r := sync()
		if r.code != 0 || strings.TrimSpace(r.stdout) != "directory: 0 added, 1 updated, 0 deactivated, 0 reactivated" {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "conflict user0005") {
			t.Errorf("the conflict with the local user0005 is not reported: %q", r.stderr)
		}
		if got := listUsers(t, in)["alice"].Email; got != "alice.example@example.org" {
			t.Fatalf("alice's email is %s after the sync", got)
		}
	})

	t.Run("dry run in Admin", func(t *testing.T) {
		mod := ldap.NewModifyRequest("uid=user0042,"+peopleDN, nil)
		mod.Replace("cn", []string{"User Forty-Two"})
		if err := conn.Modify(mod); err != nil {
			t.Fatal(err)
		}
		boss := mustLogin(t, s.url, "boss", bossPW)
		r := fetch(t, nil, s.url+"/admin/directory/sync", url.Values{"dry": {"1"}}, boss)
		if r.status != http.StatusSeeOther {
			t.Fatalf("Dry run: status %d", r.status)
		}
		page := follow(t, s.url, r, boss)
		for _, want := range []string{"What a sync would change", "user0042", "common name User 0042 -&gt; User Forty-Two", "Dry run, nothing changed: directory: 0 added, 1 updated"} {
			if !strings.Contains(page.body, want) {
				t.Fatalf("Admin › Directory after a dry run lacks %q:\n%s", want, page.body)
			}
		}
		if got := listUsers(t, in)["user0042"]; got.CommonName != "User 0042" {
			t.Fatalf("user0042 after the dry run: %+v", got)
		}
		mod.Replace("cn", []string{"User 0042"})
		if err := conn.Modify(mod); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("filter that would deactivate everyone", func(t *testing.T) {
		r := sync("--ldap-user-filter", "(uid=nobody)")
		want := "directory: stopped: would deactivate 1000 of 1000 users (limit 10%)"
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Fatalf("exit %d, stderr %q, want %q", r.code, r.stderr, want)
		}
		if got := listUsers(t, in)["alice"].State; got != "active" {
			t.Fatalf("alice is %s after the stopped sync", got)
		}
	})

	t.Run("removed and restored", func(t *testing.T) {
		if err := conn.Del(ldap.NewDelRequest("uid=alice,"+peopleDN, nil)); err != nil {
			t.Fatal(err)
		}
		r := sync()
		if r.code != 0 || strings.TrimSpace(r.stdout) != "directory: 0 added, 0 updated, 1 deactivated, 0 reactivated" {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		if got := listUsers(t, in)["alice"].State; got != "inactive" {
			t.Fatalf("alice is %s after leaving the directory", got)
		}
		if reason := ocspReason(t, rp, sig.PEM); reason != "certificateHold" {
			t.Fatalf("OCSP revocation reason %q after alice left, want certificateHold", reason)
		}
		if r := login(t, nil, s.url, "alice", alicePW); r.status == http.StatusSeeOther {
			t.Fatal("alice logs in after leaving the directory")
		}

		add := ldap.NewAddRequest("uid=alice,"+peopleDN, nil)
		for _, line := range strings.Split(strings.TrimSpace(aliceLDIF(alicePW)), "\n")[1:] {
			k, v, _ := strings.Cut(line, ": ")
			add.Attribute(k, append(addValues(add, k), v))
		}
		if err := conn.Add(add); err != nil {
			t.Fatal(err)
		}
		r = sync()
		if r.code != 0 || strings.TrimSpace(r.stdout) != "directory: 0 added, 1 updated, 0 deactivated, 1 reactivated" {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		if got := rp.ocsp("signature", sig.PEM); got != "good" {
			t.Fatalf("OCSP says %q after alice came back", got)
		}
		mustLogin(t, s.url, "alice", alicePW)
	})

	t.Run("directory down", func(t *testing.T) {
		slapd.Stop()
		r := sync()
		if r.code != 1 || !strings.Contains(r.stderr, "directory: unreachable") || strings.Count(r.stderr, "\n") != 1 {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		// Admin › Directory: Sync now finds the directory down; the
		// instance stays ready and says so.
		boss := mustLogin(t, s.url, "boss", bossPW)
		now := fetch(t, nil, s.url+"/admin/directory/sync", url.Values{}, boss)
		if now.status != http.StatusSeeOther {
			t.Fatalf("Sync now: status %d", now.status)
		}
		page := follow(t, s.url, now, boss)
		if !strings.Contains(page.body, "unreachable") || !strings.Contains(page.body, "Sync now") {
			t.Fatalf("Admin › Directory after Sync now with the directory down:\n%s", page.body)
		}
		ready := fetch(t, nil, s.url+"/readyz", nil)
		if ready.status != http.StatusOK || !strings.Contains(ready.body, "unreachable") {
			t.Fatalf("/readyz: %d %q", ready.status, ready.body)
		}
		metrics := fetch(t, nil, s.url+"/metrics", nil, boss)
		if !strings.Contains(metrics.body, "lanyard_directory_last_sync_success_timestamp_seconds 1") {
			t.Fatalf("/metrics has no time of the last successful sync")
		}
		if got := listUsers(t, in)["alice"].State; got != "active" {
			t.Fatalf("alice is %s after a sync against a directory that is down", got)
		}
		mustLogin(t, s.url, "boss", bossPW) // local users work on
	})

	// No directory password lies in the database or the server's output.
	db, _ := exec.Command("sh", "-c", "cat "+filepath.Join(in.data, "lanyard.db")+"*").Output()
	for _, secret := range []string{alicePW, slapd.AdminPW} {
		if strings.Contains(string(db), secret) || strings.Contains(s.stderr.String()+s.stdout.String(), secret) {
			t.Errorf("a directory password is in the database or the log")
		}
	}
	s.stopOK()
}

func addValues(r *ldap.AddRequest, name string) []string {
	for _, a := range r.Attributes {
		if a.Type == name {
			return a.Vals
		}
	}
	return nil
}

// listUsers returns `lanyard user list --json` by username.
func listUsers(t *testing.T, in instance) map[string]listedUser {
	t.Helper()
	r := mustLanyard(t, append([]string{"user", "list", "--json"}, in.args()...)...)
	var list []listedUser
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("user list --json: %v\n%s", err, r.stdout)
	}
	out := map[string]listedUser{}
	for _, u := range list {
		out[u.Username] = u
	}
	return out
}

// ocspReason asks the OCSP responder about a revoked certificate and
// returns the revocation reason it gives.
func ocspReason(t *testing.T, rp *relyingParty, certPEM string) string {
	t.Helper()
	certFile := rp.write("held.pem", certPEM)
	out := rp.run("ocsp", "-issuer", rp.issuer, "-cert", certFile, "-url", rp.server.url+"/pki/ocsp", "-CAfile", rp.chain)
	for line := range strings.Lines(out) {
		if reason, ok := strings.CutPrefix(strings.TrimSpace(line), "Reason: "); ok {
			return reason
		}
	}
	return "(none in: " + out + ")"
}

// TestDirectoryDoesNotDelayStart points the server at a directory that
// accepts connections and never answers: the server is alive and ready
// all the same, and its readiness says the directory is not synced yet.
func TestDirectoryDoesNotDelayStart(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var held []net.Conn
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // never answered, closed with the listener's test
		}
	}()
	s := startServer(t, newInstance(t, "sqlite"), "--ldap-url", "ldap://"+silent.Addr().String(), "--ldap-base-dn", peopleDN, "--ldap-timeout", "1m")
	s.waitReady()
	if r := fetch(t, nil, s.url+"/healthz", nil); r.status != http.StatusOK {
		t.Fatalf("/healthz: %d", r.status)
	}
	if r := fetch(t, nil, s.url+"/readyz", nil); r.status != http.StatusOK || !strings.Contains(r.body, "directory: not synced yet") {
		t.Fatalf("/readyz while the first sync waits: %d %q", r.status, r.body)
	}
	s.stopOK()
}
