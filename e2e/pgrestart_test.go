package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/testenv"
)

// throwawayPostgres is a PostgreSQL cluster of the test's own, in a
// temporary folder on a free port, which the test may stop and start
// without touching the server other tests use.
type throwawayPostgres struct {
	t    *testing.T
	dir  string
	port string
}

// run runs a PostgreSQL program, as the postgres user when the test
// runs as root (initdb refuses root).
func (pg *throwawayPostgres) run(name string, args ...string) {
	pg.t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		testenv.Unavailable(pg.t, "%s: %v", name, err)
	}
	cmd := exec.Command(path, args...)
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		pg.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func startThrowawayPostgres(t *testing.T) *throwawayPostgres {
	t.Helper()
	dir, err := os.MkdirTemp("", "lanyard-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			testenv.Unavailable(t, "a postgres user to run initdb as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	_, port, _ := strings.Cut(freeAddr(t), ":")
	pg := &throwawayPostgres{t: t, dir: dir, port: port}
	pg.run("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8")
	pg.start()
	t.Cleanup(func() { pg.run("pg_ctl", "-D", filepath.Join(dir, "data"), "-m", "immediate", "stop") })
	return pg
}

func (pg *throwawayPostgres) start() {
	pg.run("pg_ctl", "-D", filepath.Join(pg.dir, "data"), "-l", filepath.Join(pg.dir, "log"), "-w",
		"-o", fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1", pg.port, pg.dir), "start")
}

func (pg *throwawayPostgres) stop() {
	pg.run("pg_ctl", "-D", filepath.Join(pg.dir, "data"), "-m", "fast", "-w", "stop")
}

func (pg *throwawayPostgres) url() string {
	return "postgres://postgres@127.0.0.1:" + pg.port + "/postgres?sslmode=disable"
}

// TestPostgresRestartUnderLoad restarts the PostgreSQL server under
// `lanyard bench`: while it is down, requests fail with 503 and /readyz
// says so; once it is back, Lanyard serves again by itself, without a
// restart, and the database holds no half-made mobile ID.
func TestPostgresRestartUnderLoad(t *testing.T) {
	pg := startThrowawayPostgres(t)
	const users, password = 4, "restart password 1234"
	in := instance{data: filepath.Join(t.TempDir(), "data"), db: pg.url()}
	var csv strings.Builder
	csv.WriteString("username,email,common_name,state,roles,password\n")
	for i := 1; i <= users; i++ {
		fmt.Fprintf(&csv, "benchuser%d,benchuser%d@restart.invalid,Restart User %d,active,user,%s\n", i, i, i, password)
	}
	dir := t.TempDir()
	mustLanyard(t, append([]string{"user", "import", writeFile(t, dir, "users.csv", csv.String())}, in.args()...)...)
	s := startServer(t, in, "--log-level", "warn")
	s.waitReady()

	bench := exec.Command(lanyardBin, "bench", "--url", s.url, "--users", strconv.Itoa(users), "--concurrency", "2",
		"--duration", "8s", "--give-up-after", "30s", "--password-file", writeFile(t, dir, "pw", password+"\n"))
	bench.Env = childEnv()
	out := &syncBuffer{}
	bench.Stdout, bench.Stderr = out, out
	if err := bench.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	pg.stop()
	if !waitFor(5*time.Second, func() bool { return readyz(s) == http.StatusServiceUnavailable }) {
		t.Errorf("/readyz answers %d with the database down, want 503", readyz(s))
	}
	time.Sleep(time.Second)
	pg.start()
	if !waitFor(20*time.Second, func() bool { return readyz(s) == http.StatusOK }) {
		t.Fatalf("/readyz answers %d after the database came back", readyz(s))
	}
	bench.Wait()
	report := out.String()
	t.Logf("bench:\n%s", report)
	if !strings.Contains(report, "failing:") {
		t.Errorf("the load saw no failure while the database was down:\n%s", report)
	}
	for _, line := range strings.Split(report, "\n") {
		if strings.Contains(line, "(first:") && !strings.Contains(line, "503") && !strings.Contains(line, "unavailable") {
			t.Errorf("a failure other than 503: %s", line)
		}
	}
	if m := regexpMobileIDs(report); m == 0 {
		t.Errorf("no mobile ID made:\n%s", report)
	}
	if n := checkInvariants(t, in, s); n != 0 {
		t.Fatalf("%d violations after the restart", n)
	}
	s.stopOK()
}

// readyz returns the status of /readyz, 0 when it does not answer.
func readyz(s *server) int {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(s.url + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// regexpMobileIDs reads the number of mobile IDs from bench's report.
func regexpMobileIDs(report string) int {
	_, rest, ok := strings.Cut(report, "mobile IDs: ")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(strings.Fields(rest)[0])
	return n
}
