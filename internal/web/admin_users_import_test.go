package web_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestImportedHashesLogIn imports users with the argon2id and bcrypt
// hashes of another system and logs them in through the login page, twice:
// the first login replaces the hash with the portal's own.
func TestImportedHashesLogIn(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		p := newPortal(t, dsn)
		p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
		root := p.loggedIn(t, "root")
		salt := []byte("a salt of 16 b.")
		key := argon2.IDKey([]byte("argon2 password"), salt, 2, 2048, 2, 32)
		phc := fmt.Sprintf("$argon2id$v=19$m=2048,t=2,p=2$%s$%s", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
		bc, err := bcrypt.GenerateFromPassword([]byte("bcrypt password"), 5)
		if err != nil {
			t.Fatal(err)
		}
		csv := "username,email,common_name,state,roles,password\n" +
			"kim,kim@example.com,Kim,active,user,\"" + phc + "\"\n" +
			"lou,lou@example.com,Lou,active,user," + string(bc) + "\n"
		resp, body := p.upload(t, root, csv)
		wantStatus(t, resp, body, http.StatusOK, "Imported 2 users.")
		for _, c := range []struct{ user, pw string }{{"kim", "argon2 password"}, {"lou", "bcrypt password"}} {
			if resp, _ := p.login(t, p.browser(t), c.user, c.pw+"!"); resp.StatusCode == http.StatusSeeOther {
				t.Fatalf("%s logged in with a wrong password", c.user)
			}
			for i := range 2 {
				if resp, body := p.login(t, p.browser(t), c.user, c.pw); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
					t.Fatalf("%s, login %d: status %d, location %q\n%s", c.user, i+1, resp.StatusCode, resp.Header.Get("Location"), body)
				}
			}
		}
		events, err := p.db.FindAuditEvents(context.Background(), lanyard.AuditFilter{Action: "user.password_rehash"})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 {
			t.Fatalf("%d rehashes audited, want one for each imported user", len(events))
		}
		for _, e := range events {
			if strings.Contains(e.Detail, "password") {
				t.Fatalf("the audit event tells of the password: %+v", e)
			}
		}
	})
}

func TestImportUploadRefusals(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	root := p.loggedIn(t, "root")
	header := "username,email,common_name,state,roles,password\n"
	var many strings.Builder
	many.WriteString(header)
	for i := range 501 {
		fmt.Fprintf(&many, "u%d,u%d@example.com,U %d,active,user,password number %d\n", i, i, i, i)
	}
	resp, body := p.upload(t, root, many.String())
	wantStatus(t, resp, body, http.StatusBadRequest, "501 passwords to hash, more than 500; import it with lanyard user import")
	resp, body = p.upload(t, root, header+"mia,mia@example.com,Mia,active,user,$argon2id$v=19$m=1048576,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA\n")
	wantStatus(t, resp, body, http.StatusBadRequest, "line 2: the password column holds a hash that is not accepted: argon2id hash out of bounds")
	resp, body = p.upload(t, root, header+strings.Repeat("x", 6<<20))
	wantStatus(t, resp, body, http.StatusBadRequest, "Choose a CSV file of at most 5 MB")
	if us, _ := p.users.FindUsers(context.Background(), lanyard.UserFilter{}); len(us) != 1 {
		t.Fatalf("%d users after refused uploads", len(us))
	}
}
