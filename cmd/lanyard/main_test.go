package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// cli runs lanyard commands in-process against one data folder or database.
type cli struct {
	t    *testing.T
	base []string // --data or --db flags
}

func newCLI(t *testing.T, engine string) *cli {
	t.Helper()
	t.Setenv("LANYARD_INSECURE_FAST_HASH", "1")
	base := []string{"--data", t.TempDir()}
	if engine == "postgres" {
		base = append(base, "--db", testenv.PostgresSchema(t))
	}
	return &cli{t: t, base: base}
}

// run runs one command with the database flags appended after its
// arguments, which also checks that flags may follow positional arguments.
func (c *cli) run(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	all := append(append([]string{}, args...), c.base...)
	if len(args) > 0 && (args[0] == "version" || strings.Contains(strings.Join(args, " "), "--help")) {
		all = args
	}
	code = run(context.Background(), all, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// dsn is the database the commands work on.
func (c *cli) dsn() string {
	if len(c.base) > 2 {
		return c.base[3]
	}
	return filepath.Join(c.base[1], "lanyard.db")
}

func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	code, out, errOut := c.run(stdin, args...)
	if code != 0 {
		c.t.Fatalf("lanyard %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// fails runs a command that must fail with exit code want and exactly one
// line on stderr containing msg.
func (c *cli) fails(want int, msg string, args ...string) (stderr string) {
	c.t.Helper()
	code, _, errOut := c.run("", args...)
	if code != want {
		c.t.Fatalf("lanyard %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, errOut)
	}
	if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "lanyard: ") || !strings.Contains(errOut, msg) {
		c.t.Fatalf("lanyard %s: stderr %q, want one line with %q", strings.Join(args, " "), errOut, msg)
	}
	return errOut
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type listedUser struct {
	Username, Email, State string
	CommonName             string `json:"common_name"`
	Roles                  []string
}

func (c *cli) users() []listedUser {
	c.t.Helper()
	var users []listedUser
	if err := json.Unmarshal([]byte(c.ok("", "user", "list", "--json")), &users); err != nil {
		c.t.Fatal(err)
	}
	return users
}

func TestHelpAndUsage(t *testing.T) {
	c := newCLI(t, "sqlite")
	for _, args := range [][]string{
		{"--help"}, {"serve", "--help"}, {"version", "--help"},
		{"user", "--help"}, {"user", "add", "--help"}, {"user", "import", "--help"}, {"user", "list", "--help"},
		{"user", "set-state", "--help"}, {"user", "set-role", "--help"}, {"user", "set-password", "--help"},
		{"options", "--help"}, {"options", "show", "--help"}, {"options", "set", "--help"}, {"options", "test", "--help"},
		{"ca", "--help"}, {"ca", "export", "--help"}, {"audit", "--help"}, {"audit", "verify", "--help"},
	} {
		code, out, _ := c.run("", args...)
		if code != 0 || strings.Count(out, "Usage: lanyard") != 1 {
			t.Errorf("%v: exit %d, output %q", args, code, out)
		}
	}
	_, out, _ := c.run("", "serve", "--help")
	for _, flag := range []string{"-data", "-db", "-listen", "-public-url", "-smtp-addr", "-mail-from", "./lanyard-data", "127.0.0.1:8080"} {
		if !strings.Contains(out, flag) {
			t.Errorf("serve --help lacks %q", flag)
		}
	}
	if !strings.HasPrefix(c.ok("", "version"), "lanyard ") {
		t.Error("version prints no version")
	}
	c.fails(2, "unknown command", "frobnicate")
	c.fails(2, "unknown subcommand", "user", "frobnicate")
	c.fails(2, "usage: lanyard user set-state", "user", "set-state", "alice")
	c.fails(2, "flag provided but not defined", "user", "list", "--bogus")
}

func TestUserCommands(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			c := newCLI(t, engine)
			pw := writeFile(t, "pw", "correct horse battery\n")
			out := c.ok("", "user", "add", "alice", "--email", "alice@example.com", "--name", "Alice Example", "--password-file", pw, "--role", "operator", "--attr", "dept=R&D")
			if !strings.Contains(out, "created user alice") {
				t.Fatalf("add: %q", out)
			}
			c.ok("stdin password\n", "user", "add", "--email", "bob@example.com", "bob", "--name", "Bob", "--state", "registered", "--password-file", "-")
			c.fails(1, "exists already", "user", "add", "alice", "--email", "a@example.com", "--name", "A")
			c.fails(1, "email address is not valid", "user", "add", "carol", "--email", "carol", "--name", "Carol")
			c.fails(1, "only ASCII characters", "user", "add", "carol", "--email", "carolé@example.com", "--name", "Carol")
			c.fails(1, "common name is required", "user", "add", "carol", "--email", "carol@example.com")
			c.fails(1, "not one of registered", "user", "add", "carol", "--email", "carol@example.com", "--name", "C", "--state", "asleep")
			c.fails(1, "read password file", "user", "add", "carol", "--email", "carol@example.com", "--name", "C", "--password-file", "/nonexistent")

			users := c.users()
			if len(users) != 2 || users[0].Username != "alice" || users[0].CommonName != "Alice Example" ||
				strings.Join(users[0].Roles, ",") != "operator,user" || users[1].State != "registered" {
				t.Fatalf("list: %+v", users)
			}
			c.ok("", "user", "set-state", "bob", "active")
			c.ok("", "user", "set-role", "bob", "admin", "operator")
			c.fails(1, "not one of registered", "user", "set-state", "bob", "gone")
			c.fails(1, "No such user", "user", "set-state", "nobody", "active")
			c.fails(1, "not one of user, operator, admin", "user", "set-role", "bob", "root")
			users = c.users()
			if users[1].State != "active" || strings.Join(users[1].Roles, ",") != "admin,operator,user" {
				t.Fatalf("after set: %+v", users[1])
			}
			if out := c.ok("", "user", "list"); !strings.Contains(out, "alice@example.com") || !strings.Contains(out, "USERNAME") {
				t.Fatalf("table: %q", out)
			}
			// One-time by default, kept with --keep.
			accounts := store.NewUserService(testenv.OpenDB(t, c.dsn()), password.Params{Memory: 1024, Time: 1, Threads: 1})
			for _, tc := range []struct {
				args     []string
				oneTime  bool
				password string
			}{
				{nil, true, "a brand new password"},
				{[]string{"--keep"}, false, "a kept new password"},
			} {
				c.ok(tc.password+"\n", append([]string{"user", "set-password", "alice", "--password-file", "-"}, tc.args...)...)
				u, err := accounts.Authenticate(t.Context(), "alice", tc.password)
				if err != nil || u.MustChangePassword != tc.oneTime {
					t.Fatalf("set-password %v: %+v, %v", tc.args, u, err)
				}
			}
			c.fails(1, "at least 8", "user", "set-password", "alice", "--password-file", writeFile(t, "short", "short\n"))
			c.fails(1, "No such user", "user", "set-password", "nobody", "--password-file", writeFile(t, "pw2", "long enough password\n"))
			c.fails(2, "--password-file is required", "user", "set-password", "alice")
		})
	}
}

func TestUserImport(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			c := newCLI(t, engine)
			good := "username,email,common_name,state,roles,password\n" +
				"alice,alice@example.com,Alice Example,active,user,alice's password\n" +
				"bob,bob@example.com,\"Bob, Jr.\",registered,user;operator,\n"
			out := c.ok("", "user", "import", writeFile(t, "good.csv", good))
			if !strings.Contains(out, "imported 2 users") {
				t.Fatalf("import: %q", out)
			}
			if users := c.users(); len(users) != 2 || users[1].CommonName != "Bob, Jr." {
				t.Fatalf("users: %+v", users)
			}

			cases := []struct{ name, csv, msg string }{
				{"empty file", "", "line 1"},
				{"wrong header", "user,mail\nx,y\n", "line 1: the header must be"},
				{"no rows", "username,email,common_name,state,roles,password\n", "no rows"},
				{"bad rows", "username,email,common_name,state,roles,password\n" +
					"carol,carol@example.com,Carol,active,user,a good password\n" +
					"dave,not-an-email,Dave,active,user,\n" +
					"erin,erin@example.com,Erin,sleeping,user,\n" +
					"frank,frank@example.com,Frank\n" +
					"carol,carol2@example.com,Carol Two,active,user,\n" +
					"gina,gina@example.com,Gina,active,root,\n" +
					"hank,hank@example.com,Hank,active,user,short\n",
					"line 3: The email address is not valid|line 4: The state \"sleeping\"|line 5: want 6 fields, got 3|line 6: username \"carol\" also on line 2|line 7: The role \"root\"|line 8: The password must have at least 8"},
				{"bad quoting", "username,email,common_name,state,roles,password\nivan,\"ivan@example.com,Ivan,active,user,\n", "line 2"},
				{"existing user", "username,email,common_name,state,roles,password\njudy,judy@example.com,Judy,active,user,\nalice,alice2@example.com,Alice Two,active,user,\n", "line 3: A user named \"alice\" exists already"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					errOut := c.fails(1, "", "user", "import", writeFile(t, "bad.csv", tc.csv))
					for _, msg := range strings.Split(tc.msg, "|") {
						if !strings.Contains(errOut, msg) {
							t.Fatalf("stderr %q, want %q", errOut, msg)
						}
					}
					if n := len(c.users()); n != 2 {
						t.Fatalf("%d users after a failed import", n)
					}
				})
			}
		})
	}
}

func TestCAExport(t *testing.T) {
	c := newCLI(t, "sqlite")
	out := c.ok("", "ca", "export")
	first := c.ok("", "ca", "export")
	if out != first || strings.Count(out, "-----BEGIN CERTIFICATE-----") != 2 {
		t.Fatalf("ca export printed\n%s", out)
	}
	chain := writeFile(t, "chain.pem", out)
	// The first certificate is the issuing CA, signed by the second, the root.
	parts := strings.SplitAfter(out, "-----END CERTIFICATE-----\n")
	issuing := writeFile(t, "issuing.pem", parts[0])
	testenv.Run(t, testenv.OpenSSL(t), "verify", "-CAfile", chain, issuing)
}
