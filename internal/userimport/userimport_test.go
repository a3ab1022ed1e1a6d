package userimport_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/auditlog"
	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"github.com/lanyard-id/lanyard/internal/userimport"
)

var fastHash = password.Params{Memory: 1024, Time: 1, Threads: 1}

const header = "username,email,common_name,state,roles,password\n"

// fixture is a database of one engine with its user service.
type fixture struct {
	db    *store.DB
	users *store.UserService
}

func newFixture(t *testing.T, dsn string) fixture {
	db := testenv.OpenDB(t, dsn)
	return fixture{db: db, users: store.NewUserService(db, fastHash)}
}

// file writes a user CSV file and opens it, as the lanyard command does.
func file(t *testing.T, content string) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// rows makes n good rows, user1 to userN, with password pw.
func rows(n int, pw string) string {
	var b strings.Builder
	b.WriteString(header)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "user%d,user%d@example.com,User %d,active,user,%s\n", i, i, i, pw)
	}
	return b.String()
}

func (f fixture) count(t *testing.T) int {
	t.Helper()
	us, err := f.users.FindUsers(context.Background(), lanyard.UserFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(us)
}

// auditEvents returns every audit event and checks that the chain is
// whole.
func (f fixture) auditEvents(t *testing.T) []*lanyard.AuditEvent {
	t.Helper()
	// On PostgreSQL the events join the chain after they commit.
	if _, err := f.db.ChainAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	v := auditlog.NewVerifier(nil, nil)
	var events []*lanyard.AuditEvent
	err := f.db.EachAuditEvent(context.Background(), func(e *lanyard.AuditEvent) error {
		v.Add(e)
		events = append(events, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res := v.Finish(); !res.OK() {
		t.Fatalf("the audit chain is broken: %s", res.Line())
	}
	return events
}

func wantError(t *testing.T, err error, code string, parts ...string) {
	t.Helper()
	if lanyard.ErrorCode(err) != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
	for _, p := range parts {
		if !strings.Contains(lanyard.ErrorMessage(err), p) {
			t.Fatalf("error %q does not say %q", lanyard.ErrorMessage(err), p)
		}
	}
}

func TestABadRowAtTheEndLeavesNoUser(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		f := newFixture(t, dsn)
		const n = 5000
		good := rows(n, "")
		_, err := userimport.Import(ctx, f.users, lanyard.CLIActor, file(t, good+"last,not-an-email,Last,active,user,\n"), userimport.Options{})
		wantError(t, err, lanyard.EINVALID, fmt.Sprintf("nothing imported: line %d: The email address is not valid", n+2))
		if got := f.count(t); got != 0 {
			t.Fatalf("%d users created by a refused file", got)
		}
		// A username taken by a user created meanwhile is found by the
		// database, at the end of the file, after thousands of inserts.
		if err := f.users.CreateUser(ctx, lanyard.CLIActor, &lanyard.User{Username: "user4999", Email: "x@example.com", CommonName: "X"}, ""); err != nil {
			t.Fatal(err)
		}
		_, err = userimport.Import(ctx, f.users, lanyard.CLIActor, file(t, good), userimport.Options{})
		wantError(t, err, lanyard.ECONFLICT, `nothing imported: line 5000: A user named "user4999" exists already`)
		if got := f.count(t); got != 1 {
			t.Fatalf("%d users after a refused import, want the 1 there was", got)
		}
		before := len(f.auditEvents(t))

		got, err := userimport.Import(ctx, f.users, lanyard.CLIActor, file(t, strings.Replace(good, "user4999,", "user4999b,", 1)), userimport.Options{})
		if err != nil || got != n {
			t.Fatalf("import = %d, %v", got, err)
		}
		if c := f.count(t); c != n+1 {
			t.Fatalf("%d users, want %d", c, n+1)
		}
		u, err := f.users.FindUserByUsername(ctx, "user2500")
		if err != nil || u.Email != "user2500@example.com" || u.CommonName != "User 2500" || u.State != lanyard.UserActive || !u.HasRole(lanyard.RoleUser) {
			t.Fatalf("user2500 = %+v, %v", u, err)
		}
		events := f.auditEvents(t)
		if len(events) != before+1 {
			t.Fatalf("%d audit events for one import, want 1", len(events)-before)
		}
		e := events[len(events)-1]
		if e.Action != "user.import" || e.Subject != "5000 users" || !strings.Contains(e.Detail, "sha256") || e.Actor != "cli" {
			t.Fatalf("import audited as %+v", e)
		}
	})
}

func TestEveryBadRowByLine(t *testing.T) {
	f := newFixture(t, testenv.DSN(t, "sqlite"))
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("ann,ann@example.com,Ann,active,user,\n")                                                                    // 2
	b.WriteString("bob,bob@example.com,\"Bob\nSecond Line\",active,user,\n")                                                   // 3-4: a control character
	b.WriteString("cid,cid@example.com,Cid,sleeping,user,\n")                                                                  // 5
	b.WriteString("Ann,ann2@example.com,Ann Two,active,user,\n")                                                               // 6: ann again
	b.WriteString("dan,dan@example.com,Dan,active,user;root,\n")                                                               // 7
	b.WriteString("eve,eve@example.com,Eve,active,user,short\n")                                                               // 8
	b.WriteString("fay,fay@example.com,Fay\n")                                                                                 // 9
	b.WriteString("gus,gus@example.com,Gus,active,user,$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n") // 10
	b.WriteString("hal,hal@example.com,Hal,active,user,$2b$10$tooshort\n")                                                     // 11
	b.WriteString("ida,ida@example.com,Ida,active,user,$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaA\n")                                 // 12
	b.WriteString("jon,jon@example.com,\"Jon \"quoted\"\",active,user,\n")                                                     // 13
	for i := range 30 {
		fmt.Fprintf(&b, "bad%d,bad,Bad,active,user,\n", i) // 14-43
	}
	_, err := userimport.Import(context.Background(), f.users, lanyard.CLIActor, file(t, b.String()), userimport.Options{})
	wantError(t, err, lanyard.EINVALID,
		"line 3: The common name must be valid text",
		`line 5: The state "sleeping" is not one of`,
		`line 6: username "ann" also on line 2`,
		`line 7: The role "root" is not one of`,
		"line 8: The password must have at least 8 characters",
		"line 9: want 6 fields, got 3",
		"line 10: the password column holds a hash that is not accepted: argon2id hash out of bounds: m must be",
		"line 11: the password column holds a hash that is not accepted: malformed bcrypt hash",
		"line 12: the password column holds a hash that is not accepted: a $scrypt$ hash is not accepted",
		`line 13: `,
		"line 14: The email address is not valid",
		"line 23: The email address is not valid; and 20 more")
	if strings.Contains(lanyard.ErrorMessage(err), "line 24:") || strings.Contains(lanyard.ErrorMessage(err), "line 2:") {
		t.Fatalf("the error names more than 20 problems, or a good row: %s", lanyard.ErrorMessage(err))
	}
	if f.count(t) != 0 {
		t.Fatal("a refused file created users")
	}
}

func TestDuplicatesAgainstExistingUsers(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		f := newFixture(t, dsn)
		for _, name := range []string{"erin", "zed"} {
			if err := f.users.CreateUser(ctx, lanyard.CLIActor, &lanyard.User{Username: name, Email: name + "@example.com", CommonName: name}, ""); err != nil {
				t.Fatal(err)
			}
		}
		_, err := userimport.Import(ctx, f.users, lanyard.CLIActor,
			file(t, header+"ivan,ivan@example.com,Ivan,active,user,\nERIN,erin2@example.com,Erin Two,active,user,\ngwen,gwen@example.com,Gwen,active,user,\nzed,zed2@example.com,Zed,active,user,\n"), userimport.Options{})
		wantError(t, err, lanyard.ECONFLICT, `line 3: A user named "erin" exists already; line 5: A user named "zed" exists already`)
		if _, err := f.users.FindUserByUsername(ctx, "ivan"); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
			t.Fatal("a refused import created ivan")
		}
	})
}

// phc encodes an argon2id hash as another system would have stored it.
func phc(pw string, m, t uint32, p uint8) string {
	salt := []byte("sixteen byte salt")
	key := argon2.IDKey([]byte(pw), salt, t, m, p, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p, enc.EncodeToString(salt), enc.EncodeToString(key))
}

func TestHashesAreKeptAndUpgradedAtLogin(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		f := newFixture(t, dsn)
		bc, err := bcrypt.GenerateFromPassword([]byte("bcrypt password"), 4)
		if err != nil {
			t.Fatal(err)
		}
		csv := header +
			"amy,amy@example.com,Amy,active,user,\"" + phc("argon2 password", 4096, 3, 2) + "\"\n" +
			"dee,dee@example.com,Dee,active,user," + phc("argon2 password", 1024, 1, 1) + "\n" + // unquoted
			"ben,ben@example.com,Ben,active,user,$2y$" + string(bc[4:]) + "\n" +
			"cat,cat@example.com,Cat,active,user,plain password\n"
		n, err := userimport.Import(ctx, f.users, lanyard.CLIActor, file(t, csv), userimport.Options{})
		if err != nil || n != 4 {
			t.Fatalf("import = %d, %v", n, err)
		}
		for _, c := range []struct{ user, pw string }{{"amy", "argon2 password"}, {"dee", "argon2 password"}, {"ben", "bcrypt password"}, {"cat", "plain password"}} {
			if _, err := f.users.Authenticate(ctx, c.user, c.pw+"x"); lanyard.ErrorCode(err) != lanyard.EUNAUTHORIZED {
				t.Fatalf("%s with a wrong password: %v", c.user, err)
			}
			for range 2 { // the second login is with the upgraded hash
				if _, err := f.users.Authenticate(ctx, c.user, c.pw); err != nil {
					t.Fatalf("%s cannot log in: %v", c.user, err)
				}
			}
		}
		var rehashed []string
		for _, e := range f.auditEvents(t) {
			if e.Action == "user.password_rehash" {
				rehashed = append(rehashed, e.Subject+": "+e.Detail)
			}
		}
		want := []string{"amy: to argon2id m=1024,t=1,p=1 from argon2id m=4096,t=3,p=2", "ben: to argon2id m=1024,t=1,p=1 from bcrypt cost 04"}
		if strings.Join(rehashed, "\n") != strings.Join(want, "\n") {
			t.Fatalf("rehashes audited:\n%s\nwant\n%s", strings.Join(rehashed, "\n"), strings.Join(want, "\n"))
		}
	})
}

func TestPasswordsHashedOnEveryWorker(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		f := newFixture(t, dsn)
		var mu sync.Mutex
		var reports []userimport.Progress
		opt := userimport.Options{Workers: 3, Progress: func(p userimport.Progress) {
			mu.Lock()
			reports = append(reports, p)
			mu.Unlock()
		}}
		const n = 300
		got, err := userimport.Import(ctx, f.users, lanyard.CLIActor, file(t, rows(n, "password of the user")), opt)
		if err != nil || got != n {
			t.Fatalf("import = %d, %v", got, err)
		}
		last := reports[len(reports)-1]
		if !last.Done || last.Hashed != n || last.Total != n {
			t.Fatalf("last progress %+v", last)
		}
		for _, p := range reports[:len(reports)-1] {
			if p.Done {
				t.Fatalf("progress done before the end: %+v", reports)
			}
		}
		for _, name := range []string{"user1", "user150", "user300"} {
			if _, err := f.users.Authenticate(ctx, name, "password of the user"); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	})
}

func TestPasswordBoundAndCancel(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, testenv.DSN(t, "sqlite"))
	_, err := userimport.Import(ctx, f.users, lanyard.CLIActor, file(t, rows(11, "password of the user")), userimport.Options{MaxPasswords: 10})
	wantError(t, err, lanyard.EINVALID, "11 passwords to hash, more than 10")

	cctx, cancel := context.WithCancel(ctx)
	opt := userimport.Options{Workers: 2, Progress: func(userimport.Progress) { cancel() }}
	// The first report comes after a second; each slow hash of the
	// user service outlasts a few of them.
	slow := store.NewUserService(f.db, password.Params{Memory: 8 * 1024, Time: 4, Threads: 1})
	if _, err := userimport.Import(cctx, slow, lanyard.CLIActor, file(t, rows(2000, "password of the user")), opt); err == nil {
		t.Fatal("a cancelled import succeeded")
	}
	if f.count(t) != 0 {
		t.Fatal("a cancelled import created users")
	}
}

func TestEmptyAndHeader(t *testing.T) {
	f := newFixture(t, testenv.DSN(t, "sqlite"))
	for content, want := range map[string]string{
		"":             "line 1: cannot read the header: the file is empty",
		"name,email\n": "line 1: the header must be username,email,common_name,state,roles,password",
		header:         "the file has no rows after the header",
		"\ufeff" + header[:len(header)-1] + "\r\n": "the file has no rows after the header",
	} {
		_, err := userimport.Import(context.Background(), f.users, lanyard.CLIActor, file(t, content), userimport.Options{})
		wantError(t, err, lanyard.EINVALID, want)
	}
}

func TestProgressLine(t *testing.T) {
	for _, c := range []struct {
		p    userimport.Progress
		want string
	}{
		{userimport.Progress{Hashed: 12000, Total: 1000000, Elapsed: 5217391304}, "hashed 12,000 of 1,000,000 passwords, 2,300/s, about 7 min left"},
		{userimport.Progress{Hashed: 0, Total: 5, Elapsed: 1e9}, "hashed 0 of 5 passwords, 0/s, time left unknown"},
		{userimport.Progress{Hashed: 100, Total: 400, Elapsed: 10e9}, "hashed 100 of 400 passwords, 10/s, about 30 s left"},
		{userimport.Progress{Hashed: 1000, Total: 1000000, Elapsed: 10e9}, "hashed 1,000 of 1,000,000 passwords, 100/s, about 2.8 h left"},
		{userimport.Progress{Hashed: 1000000, Total: 1000000, Elapsed: 435e9, Done: true}, "hashed 1,000,000 passwords in 7m15s, 2,299/s"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
}

// changing is a file that reads differently after its first rewind, as a
// file rewritten while it is imported.
type changing struct {
	contents []string
	r        *strings.Reader
	rewinds  int
}

func (c *changing) Read(p []byte) (int, error) {
	if c.r == nil {
		c.r = strings.NewReader(c.contents[0])
	}
	return c.r.Read(p)
}

func (c *changing) Seek(offset int64, whence int) (int64, error) {
	c.rewinds++
	c.r = strings.NewReader(c.contents[min(c.rewinds, len(c.contents)-1)])
	return c.r.Seek(offset, whence)
}

func TestAFileChangedMidwayImportsNothing(t *testing.T) {
	f := newFixture(t, testenv.DSN(t, "sqlite"))
	good := rows(3000, "")
	for name, c := range map[string]struct{ later, want string }{
		"a bad row":           {strings.Replace(good, "user2999@example.com", "not-an-email", 1), "line 3000: The email address is not valid"},
		"a password in clear": {strings.Replace(good, "User 2999,active,user,", "User 2999,active,user,a password now", 1), "line 3000: the file changed while it was imported"},
		"a duplicate":         {strings.Replace(good, "user2999,", "user5,", 1), `line 3000: A user named "user5" exists already`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := userimport.Import(context.Background(), f.users, lanyard.CLIActor, &changing{contents: []string{good, c.later}}, userimport.Options{})
			if err == nil || !strings.Contains(lanyard.ErrorMessage(err), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if f.count(t) != 0 {
				t.Fatal("a file that changed midway created users")
			}
		})
	}
	// With passwords, the file is read again to hash them.
	withPW := rows(40, "password of the user")
	_, err := userimport.Import(context.Background(), f.users, lanyard.CLIActor,
		&changing{contents: []string{withPW, strings.Replace(withPW, "user30@example.com", "bad", 1)}}, userimport.Options{})
	wantError(t, err, lanyard.EINVALID, "line 31: The email address is not valid (the file changed while it was imported)")
	if f.count(t) != 0 {
		t.Fatal("a file that changed midway created users")
	}
}
