package directory_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/directory"
	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestDirectoryThatDoesNotAnswer: a closed port and a server that accepts
// connections but never answers both end in an error within the request
// timeout, are recorded as unreachable, and change nothing.
func TestDirectoryThatDoesNotAnswer(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()

	for name, addr := range map[string]string{"closed port": closedAddr, "silent server": silent.Addr().String()} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := testenv.OpenDB(t, testenv.DSN(t, "sqlite"))
			users := store.NewUserService(db, password.Params{Memory: 1024, Time: 1, Threads: 1})
			dir, err := directory.New(directory.Config{URL: "ldap://" + addr, BindDN: "cn=admin,dc=example,dc=org", BindPassword: "x",
				BaseDN: "dc=example,dc=org", Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer dir.Close()
			s := &directory.Syncer{Dir: dir, Store: db, States: users, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxDeactivatePercent: 10}
			run, err := s.Sync(ctx, "test", false)
			if err == nil || run.OK {
				t.Fatal("a sync against a directory that does not answer succeeded")
			}
			if st := s.Status(); !st.Unreachable || !strings.Contains(s.ReadyDetail(), "unreachable") {
				t.Fatalf("status %+v, ready detail %q", st, s.ReadyDetail())
			}
			runs, err := db.DirectoryRuns(ctx, 1)
			if err != nil || len(runs) != 1 || runs[0].OK || runs[0].Error == "" {
				t.Fatalf("recorded runs: %v %+v", err, runs)
			}
			if err := dir.Bind(ctx, "alice", "secret"); err == nil || strings.Contains(err.Error(), "wrong") {
				t.Fatalf("a bind against a directory that does not answer: %v", err)
			}
			if n, _ := users.FindUsers(ctx, lanyard.UserFilter{}); len(n) != 0 {
				t.Fatalf("%d users after a failed sync", len(n))
			}
		})
	}
}
