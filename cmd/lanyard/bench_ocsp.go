package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/loadgen"
	"github.com/lanyard-id/lanyard/internal/store"
	"golang.org/x/crypto/ocsp"
)

const benchOCSPUsage = "bench ocsp --url URL [--data DIR | --db URL] [--certs FILE] [--concurrency C] [--duration D] [--sample N] [--server-pid PID [--postgres-cpu]]"

const benchOCSPHelp = `Measures OCSP answers per second over HTTP on loopback with kept-alive
connections, GET and POST, beside a bare Go handler that serves a fixed
1,500-byte body, run by this command as a process of its own, under the same
load in the same run. The requests are those of real certificates: the
newest good and revoked ones of the server's database (--data/--db, as for
the administration commands), or those of a PEM file (--certs). Every answer
is checked to be the response verified for its certificate at the start.`

// benchBareBody is the size of the bare handler's answer: about an OCSP
// response with its HTTP headers.
const benchBareBody = 1500

// benchCert is one certificate the OCSP phases ask about, with its
// requests and the answer verified for it.
type benchCert struct {
	serial  string
	revoked bool // as the database says; unknown for --certs
	fromDB  bool
	der     []byte // the DER OCSP request
	getPath string // the GET form of der
	cert    *x509.Certificate

	mu       sync.Mutex
	verified [][]byte // answers already verified
}

func runBenchOCSP(ctx context.Context, e env, args []string) error {
	var certsFile string
	conc, dur, sample, serverPID := 16, 10*time.Second, 200, 0
	var rawURL string
	var allowRemote, pgCPU bool
	setup := func(fs flagSet) {
		fs.StringVar(&rawURL, "url", "", "base URL of the running server (required; loopback only unless --allow-remote)")
		fs.StringVar(&certsFile, "certs", "", "PEM file of certificates to ask about (default: the newest of the database)")
		fs.IntVar(&conc, "concurrency", conc, "number of workers, each with one request in flight")
		fs.DurationVar(&dur, "duration", dur, "length of each of the four phases")
		fs.IntVar(&sample, "sample", sample, "how many good and how many revoked certificates to take from the database")
		fs.IntVar(&serverPID, "server-pid", 0, "process ID of the server, to report its CPU time per request (Linux)")
		fs.BoolVar(&pgCPU, "postgres-cpu", false, "with --server-pid: add the CPU time per request of the postgres processes on this machine")
		fs.BoolVar(&allowRemote, "allow-remote", false, "allow a URL whose host is not a loopback address")
	}
	return adminCommand(ctx, e, "bench ocsp", benchOCSPUsage, args, 0, 0, setup, func(a *app, _ []string) error {
		switch {
		case rawURL == "":
			return fmt.Errorf("%w: --url is required (see --help)", errUsage)
		case conc < 1 || dur <= 0 || sample < 1:
			return fmt.Errorf("%w: --concurrency, --duration and --sample must be positive", errUsage)
		}
		base, err := url.Parse(strings.TrimRight(rawURL, "/"))
		if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
			return fmt.Errorf("%w: --url %q: want http:// or https:// and a host", errUsage, rawURL)
		}
		if ip := net.ParseIP(base.Hostname()); !allowRemote && base.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("%w: --url %q: the host is not a loopback address; add --allow-remote to load another machine", errUsage, rawURL)
		}
		client := benchClient(conc)
		issuer, err := fetchIssuer(ctx, client, base.String())
		if err != nil {
			return err
		}
		certs, err := benchCerts(ctx, a, certsFile, sample, issuer)
		if err != nil {
			return err
		}
		ocspURL := base.String() + "/pki/ocsp"
		for _, c := range certs {
			if err := c.verifyFirst(ctx, client, ocspURL, issuer); err != nil {
				return err
			}
		}
		bare, err := startBareServer(ctx)
		if err != nil {
			return err
		}
		defer bare.stop()

		good := 0
		for _, c := range certs {
			if !c.revoked {
				good++
			}
		}
		fmt.Fprintf(e.stdout, "target:     %s, %d certificates (%d good, %d revoked), concurrency %d, %s per phase\n",
			ocspURL, len(certs), good, len(certs)-good, conc, dur)
		fmt.Fprintf(e.stdout, "bare:       %s, pid %d, a fixed %d-byte body\n", bare.url, bare.cmd.Process.Pid, benchBareBody)
		fmt.Fprintf(e.stdout, "machine:    %s/%s, %d CPUs, %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
		var speed loadgen.Speed
		if speed.Before, err = loadgen.SignatureTime(loadgen.SpeedSamples); err != nil {
			return err
		}
		failed := 0
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			bareCPU := startCPU(ctx, bare.cmd.Process.Pid, false)
			b := benchBare(ctx, client, bare.url, method, conc, dur)
			bareCPU.stop(ctx, len(b.Latencies))
			srvCPU := startCPU(ctx, serverPID, pgCPU)
			o := benchOCSPPhase(ctx, client, ocspURL, method, certs, issuer, conc, dur)
			srvCPU.stop(ctx, len(o.Latencies))
			printPhase(e.stdout, "bare "+method, b, bareCPU, 0)
			printPhase(e.stdout, "OCSP "+method, o, srvCPU, b.PerSecond())
			failed += b.Errors + o.Errors
		}
		if speed.After, err = loadgen.SignatureTime(loadgen.SpeedSamples); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "speed:      %s\n", speed)
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		if failed > 0 {
			return fmt.Errorf("%d requests failed; the first of each phase is shown above", failed)
		}
		return nil
	})
}

func printPhase(w io.Writer, name string, r *loadgen.RequestsResult, cpu *cpuMeter, bare float64) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(w, "%-11s %d in %s = %.0f/s, p50 %s, p99 %s", name+":", len(r.Latencies), r.Elapsed.Round(time.Millisecond),
		r.PerSecond(), ms(r.Percentile(50)), ms(r.Percentile(99)))
	if bare > 0 {
		fmt.Fprintf(w, ", %.2f× bare", r.PerSecond()/bare)
	}
	if cpu.ok {
		fmt.Fprintf(w, ", %.1f µs CPU/request", cpu.perRequest)
		if cpu.pg {
			fmt.Fprintf(w, " + %.1f µs PostgreSQL", cpu.pgPer)
		}
	}
	fmt.Fprintf(w, ", errors %d\n", r.Errors)
	if r.Errors > 0 {
		fmt.Fprintf(w, "  first error: %s\n", r.FirstError)
	}
}

// benchClient keeps one connection per worker alive.
func benchClient(conc int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2*conc + 4
	tr.MaxIdleConnsPerHost = 2*conc + 4
	tr.DisableCompression = true
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// fetchIssuer reads the issuing CA certificate, the first of /pki/ca.pem.
func fetchIssuer(ctx context.Context, client *http.Client, base string) (*x509.Certificate, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/pki/ca.pem", nil)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch the CA chain: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the CA chain: status %d, %v", resp.StatusCode, err)
	}
	block, _ := pem.Decode(body)
	if block == nil {
		return nil, errors.New("the CA chain at /pki/ca.pem holds no certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// benchCerts returns the certificates to ask about, with their requests.
func benchCerts(ctx context.Context, a *app, file string, sample int, issuer *x509.Certificate) ([]*benchCert, error) {
	var list []*benchCert
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--certs: %w", err)
		}
		for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
			if block.Type == "CERTIFICATE" {
				list = append(list, &benchCert{der: block.Bytes})
			}
		}
	} else {
		st := store.NewPKIStore(a.db)
		for _, status := range []lanyard.CertificateStatus{lanyard.CertificateValid, lanyard.CertificateRevoked} {
			certs, err := st.NewestCertificates(ctx, status, sample)
			if err != nil {
				return nil, err
			}
			for _, c := range certs {
				list = append(list, &benchCert{der: c.DER, fromDB: true, revoked: status == lanyard.CertificateRevoked})
			}
		}
	}
	if len(list) == 0 {
		return nil, errors.New("no certificates to ask about: make mobile IDs first (lanyard bench), or name a PEM file with --certs")
	}
	for _, c := range list {
		cert, err := x509.ParseCertificate(c.der)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{})
		if err != nil {
			return nil, fmt.Errorf("make the OCSP request of %x: %w", cert.SerialNumber, err)
		}
		c.cert, c.serial, c.der = cert, fmt.Sprintf("%x", cert.SerialNumber), req
		c.getPath = "/" + url.PathEscape(base64.StdEncoding.EncodeToString(req))
	}
	return list, nil
}

// verifyFirst asks about c over GET and POST and verifies both answers
// fully: the issuer's signature, the serial and, from the database, the
// status.
func (c *benchCert) verifyFirst(ctx context.Context, client *http.Client, ocspURL string, issuer *x509.Certificate) error {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, _ := newOCSPRequest(ocspURL, method, c)
		resp, err := client.Do(req.WithContext(ctx))
		if err != nil {
			return fmt.Errorf("OCSP %s: %w", method, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("OCSP %s: %w", method, err)
		}
		if err := c.check(resp, body, issuer); err != nil {
			return fmt.Errorf("OCSP %s of %s: %w", method, c.serial, err)
		}
	}
	return nil
}

// check accepts an answer byte for byte equal to one verified before, or
// verifies it and remembers it: responses change only when re-signed, so
// the load tool verifies few signatures and still checks every answer.
func (c *benchCert) check(resp *http.Response, body []byte, issuer *x509.Certificate) error {
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/ocsp-response" {
		return fmt.Errorf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.verified {
		if bytes.Equal(v, body) {
			return nil
		}
	}
	r, err := ocsp.ParseResponseForCert(body, c.cert, issuer)
	if err != nil {
		return fmt.Errorf("invalid OCSP response: %w", err)
	}
	if c.fromDB && (r.Status == ocsp.Revoked) != c.revoked {
		return fmt.Errorf("OCSP status %d, but the database says revoked=%t", r.Status, c.revoked)
	}
	if len(c.verified) >= 4 {
		c.verified = c.verified[1:]
	}
	c.verified = append(c.verified, bytes.Clone(body))
	return nil
}

func newOCSPRequest(ocspURL, method string, c *benchCert) (*http.Request, error) {
	if method == http.MethodGet {
		return http.NewRequest(method, ocspURL+c.getPath, nil)
	}
	req, err := http.NewRequest(method, ocspURL, bytes.NewReader(c.der))
	if err == nil {
		req.Header.Set("Content-Type", "application/ocsp-request")
	}
	return req, err
}

// benchOCSPPhase asks about the certificates in turn, each worker starting
// at a different one.
func benchOCSPPhase(ctx context.Context, client *http.Client, ocspURL, method string, certs []*benchCert, issuer *x509.Certificate, conc int, dur time.Duration) *loadgen.RequestsResult {
	pick := func(w, n int) *benchCert { return certs[(w*7919+n)%len(certs)] }
	return loadgen.Requests{
		Client: client, Concurrency: conc, Duration: dur,
		New: func(w, n int) (*http.Request, error) { return newOCSPRequest(ocspURL, method, pick(w, n)) },
		Check: func(w, n int, resp *http.Response, body []byte) error {
			return pick(w, n).check(resp, body, issuer)
		},
	}.Run(ctx)
}

// benchBare drives the bare handler with the same load: GET, or POST with
// a body of an OCSP request's size.
func benchBare(ctx context.Context, client *http.Client, bareURL, method string, conc int, dur time.Duration) *loadgen.RequestsResult {
	body := bytes.Repeat([]byte{0x30}, 83)
	return loadgen.Requests{
		Client: client, Concurrency: conc, Duration: dur,
		New: func(w, n int) (*http.Request, error) {
			if method == http.MethodGet {
				return http.NewRequest(method, bareURL+"/", nil)
			}
			return http.NewRequest(method, bareURL+"/", bytes.NewReader(body))
		},
		Check: func(w, n int, resp *http.Response, got []byte) error {
			if resp.StatusCode != http.StatusOK || len(got) != benchBareBody {
				return fmt.Errorf("bare handler: status %d, %d bytes", resp.StatusCode, len(got))
			}
			return nil
		},
	}.Run(ctx)
}

// bareServer is the child process serving the bare handler.
type bareServer struct {
	cmd   *exec.Cmd
	stdin io.Closer
	url   string
}

// startBareServer runs "lanyard bench bare-server" as a process of its own,
// as the server is one, and waits for the address it listens on.
func startBareServer(ctx context.Context) (*bareServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program to start the bare handler: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, "bench", "bare-server", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), benchChildEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the bare handler: %w", err)
	}
	b := &bareServer{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		b.stop()
		return nil, fmt.Errorf("the bare handler did not start: %q %v", line, err)
	}
	b.url = "http://" + addr
	return b, nil
}

// stop ends the child: closing its stdin tells it to exit.
func (b *bareServer) stop() {
	b.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		b.cmd.Process.Kill()
		<-done
	}
}

// benchChildEnv marks a process the bench started of its own program, so
// that a test binary standing in for the program runs the command.
const benchChildEnv = "LANYARD_BENCH_CHILD"

// runBenchBareServer serves a fixed 1,500-byte body to every request until
// its stdin closes: the reference a handler that does real work is
// measured against.
func runBenchBareServer(ctx context.Context, e env, args []string) error {
	listen := "127.0.0.1:0"
	fs := newFlagSet(e, "bench bare-server", "bench bare-server [--listen ADDR]")
	fs.StringVar(&listen, "listen", listen, "address to listen on")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	body := bytes.Repeat([]byte("x"), benchBareBody)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, io.LimitReader(r.Body, 64<<10))
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(e.stdout, "listening on %s\n", ln.Addr())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if e.stdin != nil {
		go func() { io.Copy(io.Discard, e.stdin); cancel() }()
	}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// cpuMeter measures the CPU time (user and system) a process spends over
// a phase, and PostgreSQL's beside it when asked, per request.
type cpuMeter struct {
	m          *loadgen.Measurement
	ok         bool
	perRequest float64 // µs of the process
	pgPer      float64 // µs of PostgreSQL, when pg
	pg         bool
}

// startCPU starts measuring process pid; 0 measures nothing.
func startCPU(ctx context.Context, pid int, pg bool) *cpuMeter {
	c := &cpuMeter{}
	if pid <= 0 {
		return c
	}
	m, err := (&loadgen.Probe{PID: pid, Postgres: pg}).Start(ctx)
	if err != nil {
		return c
	}
	c.m, c.pg = m, pg
	return c
}

func (c *cpuMeter) stop(ctx context.Context, requests int) {
	if c.m == nil || requests == 0 {
		return
	}
	u, err := c.m.Stop(ctx)
	if err != nil {
		return
	}
	c.ok = true
	c.perRequest = float64(u.CPU) / float64(time.Microsecond) / float64(requests)
	c.pgPer = float64(u.PostgresCPU) / float64(time.Microsecond) / float64(requests)
}
