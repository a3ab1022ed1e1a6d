package directory_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/directory"
	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

const usersDN = "ou=users,dc=example,dc=org"

// adLDIF is a directory in Active Directory's shape: people of class user
// named by sAMAccountName, disabled through userAccountControl, and an
// admin group whose members come through a nested group.
func adLDIF() string {
	person := func(name, cn string, uac int) string {
		return fmt.Sprintf("dn: cn=%s,%s\nobjectClass: user\nobjectCategory: person\ncn: %s\nsn: %s\nsAMAccountName: %s\nmail: %s@example.org\nuserAccountControl: %d\ndepartmentNumber: IT\nuserPassword: %s\n\n",
			cn, usersDN, cn, cn, name, strings.ToLower(name), uac, testenv.SSHA(strings.ToLower(name)+"-password"))
	}
	return "dn: " + usersDN + "\nobjectClass: organizationalUnit\nou: users\n\n" +
		"dn: ou=groups,dc=example,dc=org\nobjectClass: organizationalUnit\nou: groups\n\n" +
		person("Bob.Smith", "Bob Smith", 512) + person("Carol", "Carol Jones", 512) + person("Dave", "Dave Brown", 514) +
		// A service account, not a person, is outside the default filter.
		"dn: cn=svc,ou=users,dc=example,dc=org\nobjectClass: user\nobjectCategory: computer\ncn: svc\nsn: svc\nsAMAccountName: svc\nmail: svc@example.org\n\n" +
		"dn: cn=IT Staff,ou=groups,dc=example,dc=org\nobjectClass: group\ncn: IT Staff\nmember: cn=Bob Smith," + usersDN + "\n\n" +
		"dn: cn=Lanyard Admins,ou=groups,dc=example,dc=org\nobjectClass: group\ncn: Lanyard Admins\nmember: cn=IT Staff,ou=groups,dc=example,dc=org\n\n" +
		"dn: cn=Lanyard Operators,ou=groups,dc=example,dc=org\nobjectClass: group\ncn: Lanyard Operators\nmember: CN=Carol Jones,OU=Users,DC=example,DC=org\n\n"
}

// TestActiveDirectoryShape syncs from slapd loaded with AD's attributes
// (testdata/ad.schema): sAMAccountName names users, the account-disabled
// bit of userAccountControl deactivates them, and a nested group gives
// its role. slapd does not know LDAP_MATCHING_RULE_IN_CHAIN and does not
// announce AD's capability, so nesting is followed by Lanyard here; the
// in-chain filter real AD gets is checked in mapping_internal_test.go.
func TestActiveDirectoryShape(t *testing.T) {
	schema, _ := filepath.Abs("testdata/ad.schema")
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			slapd := testenv.StartSlapd(t, testenv.SlapdOptions{Schemas: []string{schema}, LDIF: adLDIF()})
			ctx := context.Background()
			db := testenv.OpenDB(t, testenv.DSN(t, engine))
			users := store.NewUserService(db, password.Params{Memory: 1024, Time: 1, Threads: 1})
			dir, err := directory.New(directory.Config{
				URL: slapd.URL, BindDN: slapd.AdminDN, BindPassword: slapd.AdminPW, BaseDN: usersDN, Schema: directory.ActiveDirectory,
				GroupAdmin: "cn=Lanyard Admins,ou=groups,dc=example,dc=org", GroupOperator: "cn=Lanyard Operators,ou=groups,dc=example,dc=org",
				Attributes: []string{"departmentNumber"},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer dir.Close()
			s := &directory.Syncer{Dir: dir, Store: db, States: users, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxDeactivatePercent: 50}
			sync := func(want string) {
				t.Helper()
				run, err := s.Sync(ctx, "test", false)
				if err != nil {
					t.Fatalf("sync: %v", err)
				}
				if got := run.Result.Summary(); got != want {
					t.Fatalf("%s, want %s; changes %+v", got, want, run.Result.Changes)
				}
			}
			user := func(name string) *lanyard.User {
				t.Helper()
				u, err := users.FindUserByUsername(ctx, name)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				return u
			}
			sync("directory: 3 added, 0 updated, 0 deactivated, 0 reactivated")
			bob := user("bob.smith")
			if !bob.HasRole(lanyard.RoleAdmin) || bob.HasRole(lanyard.RoleOperator) || bob.Attributes["departmentNumber"] != "IT" || bob.CommonName != "Bob Smith" {
				t.Fatalf("bob.smith, an admin through IT Staff: %+v", bob)
			}
			if carol := user("carol"); !carol.HasRole(lanyard.RoleOperator) || carol.State != lanyard.UserActive {
				t.Fatalf("carol: %+v", carol)
			}
			if dave := user("dave"); dave.State != lanyard.UserInactive {
				t.Fatalf("dave, disabled, is %s", dave.State)
			}
			if _, err := users.FindUserByUsername(ctx, "svc"); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
				t.Fatalf("the computer account svc became a user: %v", err)
			}
			// Directory logins, and a disabled account that may not log in.
			dirUsers := &directory.Users{UserService: users, Store: db, Dir: dir}
			if _, err := dirUsers.Authenticate(ctx, "Bob.Smith", "bob.smith-password"); err != nil {
				t.Fatalf("bob's directory password: %v", err)
			}
			for _, tc := range []struct{ user, pw string }{{"bob.smith", "wrong"}, {"bob.smith", ""}, {"dave", "dave-password"}} {
				if _, err := dirUsers.Authenticate(ctx, tc.user, tc.pw); lanyard.ErrorCode(err) != lanyard.EUNAUTHORIZED {
					t.Fatalf("%s with %q: %v, want refused", tc.user, tc.pw, err)
				}
			}

			conn, err := ldap.DialURL(slapd.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if err := conn.Bind(slapd.AdminDN, slapd.AdminPW); err != nil {
				t.Fatal(err)
			}
			setUAC := func(cn string, uac int) {
				t.Helper()
				m := ldap.NewModifyRequest("cn="+cn+","+usersDN, nil)
				m.Replace("userAccountControl", []string{fmt.Sprint(uac)})
				if err := conn.Modify(m); err != nil {
					t.Fatal(err)
				}
			}
			setUAC("Dave Brown", 512)
			setUAC("Bob Smith", 514)
			// Leaving the nested group takes the role at the next sync.
			m := ldap.NewModifyRequest("cn=IT Staff,ou=groups,dc=example,dc=org", nil)
			m.Replace("member", []string{"cn=Carol Jones," + usersDN})
			if err := conn.Modify(m); err != nil {
				t.Fatal(err)
			}
			sync("directory: 0 added, 2 updated, 1 deactivated, 1 reactivated")
			if dave := user("dave"); dave.State != lanyard.UserActive {
				t.Fatalf("dave, enabled again, is %s", dave.State)
			}
			if bob := user("bob.smith"); bob.State != lanyard.UserInactive || bob.HasRole(lanyard.RoleAdmin) {
				t.Fatalf("bob, disabled and out of IT Staff: %+v", bob)
			}
			if carol := user("carol"); !carol.HasRole(lanyard.RoleAdmin) || !carol.HasRole(lanyard.RoleOperator) {
				t.Fatalf("carol, now in IT Staff: %v", carol.Roles)
			}
			// A state set by hand stands: the directory reactivates only
			// whom it deactivated.
			if _, err := users.SetUserState(ctx, lanyard.CLIActor, "carol", lanyard.UserInactive); err != nil {
				t.Fatal(err)
			}
			setUAC("Bob Smith", 512)
			sync("directory: 0 added, 0 updated, 0 deactivated, 1 reactivated")
			if carol := user("carol"); carol.State != lanyard.UserInactive {
				t.Fatalf("carol, made inactive by hand, is %s", carol.State)
			}
			events, err := db.FindAuditEvents(ctx, lanyard.AuditFilter{Subject: "bob.smith"})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(events, func(e *lanyard.AuditEvent) bool { return e.Actor == "directory" && e.Action == "user.set_state" }) {
				t.Fatalf("no state change of bob.smith audited with the directory as actor: %+v", events)
			}
		})
	}
}
