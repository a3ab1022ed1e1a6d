package web_test

import (
	"database/sql"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/auditlog"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestAdminAuditLog checks the audit log page: the banner on the chain,
// the filters by actor, action, subject and time, and the CSV export that
// verification accepts; then an event edited in the database is named.
func TestAdminAuditLog(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	p.addUser(t, "alice", lanyard.UserActive)
	p.addUser(t, "bob", lanyard.UserActive)
	adm := p.loggedIn(t, "root")
	p.post(t, adm, "/admin/users/alice/state", url.Values{"state": {"inactive"}})
	p.loggedIn(t, "bob")

	resp, body := p.get(t, adm, "/admin/audit")
	wantStatus(t, resp, body, http.StatusOK, "The chain of the audit log is whole", "user.set_state", "Export CSV")

	filters := []struct {
		query      string
		want, miss []string
	}{
		{"actor=root", []string{"user.set_state", "session.login"}, []string{"user.create"}},
		{"action=user.set_state", []string{"active -&gt; inactive"}, []string{"session.login"}},
		{"subject=bob", []string{"session.login", "user.create"}, []string{"user.set_state"}},
		{"from=" + time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04"), []string{"No events."}, nil},
		{"to=" + time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04") + "&action=user.create", []string{"user.create"}, []string{"session.login"}},
	}
	for _, f := range filters {
		t.Run(f.query, func(t *testing.T) {
			resp, body := p.get(t, adm, "/admin/audit?"+f.query)
			wantStatus(t, resp, body, http.StatusOK, f.want...)
			table := body[strings.Index(body, "<table>"):]
			for _, m := range f.miss {
				if strings.Contains(table, "<code>"+m+"</code>") {
					t.Errorf("filter %s shows %s", f.query, m)
				}
			}
		})
	}

	resp, body = p.get(t, adm, "/admin/audit?actor=root&action=user.set_state")
	wantStatus(t, resp, body, http.StatusOK, `href="/admin/audit/export.csv?action=user.set_state&amp;actor=root"`)

	resp, body = p.get(t, adm, "/admin/audit/export.csv")
	wantStatus(t, resp, body, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("export Content-Type %q", ct)
	}
	x, err := auditlog.ReadCSV(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := p.ca.AuditSigner(t.Context())
	if res, err := auditlog.Verify(t.Context(), x, key.Public()); err != nil || !res.OK() || res.Events < 5 {
		t.Fatalf("verify the export: %+v, %v", res, err)
	}
	resp, body = p.get(t, adm, "/admin/audit/export.csv?actor=root")
	wantStatus(t, resp, body, http.StatusOK, "user.set_state")
	if strings.Contains(body, "user.create") {
		t.Fatal("the filtered export holds events of other actors")
	}

	raw, err := sql.Open("sqlite", "file:"+p.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE audit_log SET detail = 'active -> active' WHERE action = 'user.set_state'`); err != nil {
		t.Fatal(err)
	}
	var seq int
	raw.QueryRow(`SELECT seq FROM audit_log WHERE action = 'user.set_state'`).Scan(&seq)
	resp, body = p.get(t, adm, "/admin/audit")
	wantStatus(t, resp, body, http.StatusOK, "The audit log was tampered with: event "+itoa(seq)+" changed since it was written")

	resp, _ = p.get(t, p.loggedIn(t, "bob"), "/admin/audit/export.csv")
	if resp.StatusCode == http.StatusOK {
		t.Fatal("a user who is not an administrator exported the audit log")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestAdminAuditLogNotYetChained: on PostgreSQL, events join the chain
// after they commit. The page lists an event not yet chained without a
// number, and its banner, which chains first, calls the chain whole; the
// export chains first too, so it holds every event with its number.
func TestAdminAuditLogNotYetChained(t *testing.T) {
	p := newPortal(t, testenv.DSN(t, "postgres"))
	p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	adm := p.loggedIn(t, "root")
	p.addUser(t, "carol", lanyard.UserActive)

	resp, body := p.get(t, adm, "/admin/audit")
	wantStatus(t, resp, body, http.StatusOK, "The chain of the audit log is whole", `<span title="not yet chained">–</span>`)
	// The banner's verification chained them: now each has its number.
	resp, body = p.get(t, adm, "/admin/audit")
	wantStatus(t, resp, body, http.StatusOK, "The chain of the audit log is whole")
	if strings.Contains(body, "not yet chained") {
		t.Fatal("events still without a number after the chain was verified")
	}

	p.addUser(t, "dave", lanyard.UserActive)
	resp, body = p.get(t, adm, "/admin/audit/export.csv")
	wantStatus(t, resp, body, http.StatusOK, "dave")
	x, err := auditlog.ReadCSV(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := p.ca.AuditSigner(t.Context())
	if res, err := auditlog.Verify(t.Context(), x, key.Public()); err != nil || !res.OK() || res.Unchained != 0 || res.Events != int64(len(x.Events)) {
		t.Fatalf("verify the export: %+v, %v", res, err)
	}
}
