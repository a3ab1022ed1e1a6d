package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/lanyard-id/lanyard/internal/testenv"
	"github.com/lanyard-id/lanyard/internal/userimport"
)

func TestUserImportProgressAndAudit(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			c := newCLI(t, engine)
			bc, err := bcrypt.GenerateFromPassword([]byte("bcrypt password"), 4)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			b.WriteString("username,email,common_name,state,roles,password\n")
			for i := range 3000 {
				pw := ""
				switch i % 100 {
				case 0:
					pw = "password of user " + fmt.Sprint(i)
				case 1:
					pw = string(bc)
				}
				fmt.Fprintf(&b, "user%d,user%d@example.com,User %d,active,user,%s\n", i, i, i, pw)
			}
			code, out, errOut := c.run("", "user", "import", writeFile(t, "users.csv", b.String()))
			if code != 0 || out != "imported 3000 users\n" {
				t.Fatalf("import: exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			// Not a terminal: the final line only.
			if !regexp.MustCompile(`^hashed 30 passwords in \d+s, [\d,]+/s\n$`).MatchString(errOut) {
				t.Fatalf("stderr %q, want one final progress line", errOut)
			}
			if out := c.ok("", "audit", "verify"); !strings.HasPrefix(out, "audit: ") || !strings.Contains(out, " events verified") {
				t.Fatalf("audit verify after an import: %q", out)
			}
			if n := len(c.users()); n != 3000 {
				t.Fatalf("%d users", n)
			}

			// A file without passwords prints no progress; a bad one one line.
			code, _, errOut = c.run("", "user", "import", writeFile(t, "more.csv", "username,email,common_name,state,roles,password\nzoe,zoe@example.com,Zoe,active,user,\n"))
			if code != 0 || errOut != "" {
				t.Fatalf("import without passwords: exit %d, stderr %q", code, errOut)
			}
			c.fails(1, `line 2: the password column holds a hash that is not accepted: bcrypt hash out of bounds: the cost must be 4 to 14`,
				"user", "import", writeFile(t, "bad.csv", "username,email,common_name,state,roles,password\nyan,yan@example.com,Yan,active,user,$2b$31$"+string(bc[7:])+"\n"))
		})
	}
}

func TestProgressLineOffATerminal(t *testing.T) {
	var b strings.Builder
	show := progressLine(&b)
	show(userimport.Progress{Hashed: 1, Total: 4, Elapsed: time.Second})
	show(userimport.Progress{Hashed: 4, Total: 4, Elapsed: 2 * time.Second, Done: true})
	if b.String() != "hashed 4 passwords in 2s, 2/s\n" {
		t.Fatalf("off a terminal: %q", b.String())
	}
}
