package e2e_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestNoDirectoryPasswordStored extends the secret scan to the directory:
// the bind password and a directory user's password — right and wrong —
// are used by a server and a sync that log at debug level, and neither is
// found in the database, the data folder, the logs or the audit log.
func TestNoDirectoryPasswordStored(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			secrets := map[string]string{
				"the user's directory password": "dir-" + randomText(),
				"a wrong directory password":    "wrong-" + randomText(),
			}
			slapd := testenv.StartSlapd(t, testenv.SlapdOptions{LDIF: directoryLDIF(3, secrets["the user's directory password"])})
			secrets["the bind password"] = slapd.AdminPW
			in := newInstance(t, engine)
			bossPW := "boss-" + randomText()
			addUser(t, in, "boss", bossPW, "--role", "admin")
			ldapArgs := []string{"--ldap-url", slapd.URL, "--ldap-bind-dn", slapd.AdminDN, "--ldap-bind-password-file", slapd.AdminPWFile,
				"--ldap-base-dn", peopleDN, "--ldap-group-operator", operatorsDN, "--log-level", "debug"}
			s := startServer(t, in, ldapArgs...)
			s.waitReady()
			if !waitFor(readyTimeout, func() bool { return strings.Contains(fetch(t, nil, s.url+"/readyz", nil).body, "directory: synced") }) {
				t.Fatalf("no sync; stderr:\n%s", s.stderr)
			}
			mustLogin(t, s.url, "alice", secrets["the user's directory password"])
			if r := login(t, nil, s.url, "alice", secrets["a wrong directory password"]); r.status != http.StatusUnauthorized {
				t.Fatalf("a wrong directory password: status %d", r.status)
			}
			sync := mustLanyard(t, slices.Concat([]string{"directory", "sync"}, in.args(), ldapArgs)...)
			audit := fetch(t, nil, s.url+"/admin/audit", nil, mustLogin(t, s.url, "boss", bossPW))
			if !strings.Contains(audit.body, "directory.sync") {
				t.Fatalf("the audit page has no directory.sync event")
			}
			s.stopOK()

			places := map[string]string{
				"the log (stderr of serve)":       s.stderr.String() + s.stdout.String(),
				"the output of lanyard directory": sync.stdout + sync.stderr,
				"the audit page":                  audit.body,
				"the files of the data folder":    readFolder(t, in.data),
			}
			dump := dumpDatabase(t, in)
			checkNoSecrets(t, secrets, places, dump)
			if !slices.ContainsFunc(dump, func(c cell) bool { return c.table == "users" && c.text == "alice" }) {
				t.Fatal("the dump has no directory user: it cannot vouch for anything")
			}
		})
	}
}
