package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// sliceStream yields users in batches of size and records what the store
// tells it.
type sliceStream struct {
	users []lanyard.NewUser
	size  int
	pos   int
	last  int // where the last batch started
	taken []string
	done  error
}

func (s *sliceStream) Next() ([]lanyard.NewUser, error) {
	if s.pos >= len(s.users) {
		return nil, io.EOF
	}
	s.last = s.pos
	end := min(s.pos+s.size, len(s.users))
	b := s.users[s.pos:end]
	s.pos = end
	return b, nil
}

func (s *sliceStream) Taken(i int) { s.taken = append(s.taken, s.users[s.last+i].User.Username) }
func (s *sliceStream) Done() error { return s.done }

func newUsers(n int, hash string) []lanyard.NewUser {
	us := make([]lanyard.NewUser, n)
	for i := range us {
		us[i] = lanyard.NewUser{User: lanyard.User{Username: fmt.Sprintf("u%05d", i), Email: fmt.Sprintf("u%d@example.com", i), CommonName: fmt.Sprintf("U %d", i)}, PasswordHash: hash}
	}
	return us
}

func TestImportUserStream(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		users := store.NewUserService(db, fastHash)
		count := func() int {
			us, err := users.FindUsers(ctx, lanyard.UserFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return len(us)
		}
		if err := users.CreateUser(ctx, lanyard.CLIActor, &lanyard.User{Username: "u02500", Email: "x@example.com", CommonName: "X"}, ""); err != nil {
			t.Fatal(err)
		}

		t.Run("taken", func(t *testing.T) {
			src := &sliceStream{users: newUsers(3000, ""), size: 1200}
			if _, err := users.ImportUserStream(ctx, lanyard.CLIActor, src); lanyard.ErrorCode(err) != lanyard.ECONFLICT {
				t.Fatalf("err = %v, want a conflict", err)
			}
			if strings.Join(src.taken, ",") != "u02500" || count() != 1 {
				t.Fatalf("taken %v, %d users", src.taken, count())
			}
		})
		t.Run("a username twice in a batch", func(t *testing.T) {
			us := newUsers(5, "")
			us[3].User.Username = "U00001 "
			src := &sliceStream{users: us, size: 5}
			if _, err := users.ImportUserStream(ctx, lanyard.CLIActor, src); lanyard.ErrorCode(err) != lanyard.ECONFLICT {
				t.Fatalf("err = %v, want a conflict", err)
			}
			if strings.Join(src.taken, ",") != "u00001" || count() != 1 {
				t.Fatalf("taken %v, %d users", src.taken, count())
			}
		})
		t.Run("the stream refuses at the end", func(t *testing.T) {
			src := &sliceStream{users: newUsers(2000, ""), size: 700, done: lanyard.Errorf(lanyard.EINVALID, "line 9: bad")}
			if _, err := users.ImportUserStream(ctx, lanyard.CLIActor, src); lanyard.ErrorMessage(err) != "line 9: bad" {
				t.Fatalf("err = %v", err)
			}
			if count() != 1 {
				t.Fatal("users created by a refused import")
			}
		})
		t.Run("the database fails midway", func(t *testing.T) {
			for _, n := range []int{2, 3} { // the second insert, the audit event
				store.FailBeforeWrite(db, n)
				src := &sliceStream{users: newUsers(4501, "")[2501:], size: 1000}
				_, err := users.ImportUserStream(ctx, lanyard.CLIActor, src)
				store.FailBeforeWrite(db, 0)
				if err == nil || count() != 1 {
					t.Fatalf("failing before write %d: err %v, %d users", n, err, count())
				}
			}
		})
		t.Run("passwords must come hashed and in bounds", func(t *testing.T) {
			for _, nu := range []lanyard.NewUser{
				{User: lanyard.User{Username: "pat", Email: "pat@example.com", CommonName: "Pat"}, Password: "in clear, not hashed"},
				{User: lanyard.User{Username: "pat", Email: "pat@example.com", CommonName: "Pat"}, PasswordHash: "$2b$31$" + strings.Repeat("a", 53)},
				{User: lanyard.User{Username: "Not Valid", Email: "pat@example.com", CommonName: "Pat"}},
			} {
				if _, err := users.ImportUserStream(ctx, lanyard.CLIActor, &sliceStream{users: []lanyard.NewUser{nu}, size: 1}); err == nil {
					t.Fatalf("%+v imported", nu)
				}
				if _, err := users.FindUserByUsername(ctx, "pat"); err == nil {
					t.Fatal("pat exists")
				}
				// ImportUsers hashes passwords in clear itself.
				if nu.Password == "" {
					if err := users.ImportUsers(ctx, lanyard.CLIActor, []lanyard.NewUser{nu}); err == nil {
						t.Fatalf("%+v imported by ImportUsers", nu)
					}
				}
			}
		})
		t.Run("one audit event with a digest", func(t *testing.T) {
			hash := users.HashPassword("a password")
			src := &sliceStream{users: newUsers(2500, hash), size: 999}
			n, err := users.ImportUserStream(ctx, lanyard.CLIActor, src)
			if err != nil || n != 2500 {
				t.Fatalf("import = %d, %v", n, err)
			}
			if _, err := users.Authenticate(ctx, "u00007", "a password"); err != nil {
				t.Fatal(err)
			}
			events, err := db.FindAuditEvents(ctx, lanyard.AuditFilter{Action: "user.import"})
			if err != nil || len(events) != 1 {
				t.Fatalf("%d import events, %v", len(events), err)
			}
			h := sha256.New()
			for i := range 2500 {
				fmt.Fprintf(h, "u%05d\tu%d@example.com\tU %d\tactive\tuser\n", i, i, i)
			}
			want := "imported 2500 users, sha256 of username, email, common name, state, roles: " + hex.EncodeToString(h.Sum(nil))
			if e := events[0]; e.Subject != "2500 users" || e.Detail != want || e.Actor != "cli" {
				t.Fatalf("event %+v, want detail %q", e, want)
			}
		})
	})
}

// BenchmarkAuditEvents appends b.N audit events to the chain in one
// transaction: what an event per imported user would add to an import.
func BenchmarkAuditEvents(b *testing.B) {
	for _, engine := range testenv.Engines {
		b.Run(engine, func(b *testing.B) {
			db := testenv.OpenDB(b, testenv.DSN(b, engine))
			b.ResetTimer()
			if err := db.RecordAuditBatch(context.Background(), lanyard.CLIActor, "user.create", b.N); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
