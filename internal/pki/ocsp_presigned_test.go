package pki_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"golang.org/x/crypto/ocsp"
)

// TestOCSPPresignedWithOpenSSL asks about a good and a revoked certificate
// without a nonce, by POST with openssl ocsp and by GET, the answer then
// verified by openssl ocsp -respin, and by both with the Go OCSP client.
// Every answer is a response signed ahead: none is signed for the request.
// A nonce request beyond the budget gets the response without the nonce,
// which openssl accepts with a warning.
func TestOCSPPresignedWithOpenSSL(t *testing.T) {
	openssl := testenv.OpenSSL(t)
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn, pki.Config{OCSPNonceRate: -1})
		srv := httptestServer(t, e.ca)
		dir := t.TempDir()
		root := writePEM(t, dir, "root.pem", "CERTIFICATE", e.ca.Root().Raw)
		issuing := writePEM(t, dir, "issuing.pem", "CERTIFICATE", e.ca.Issuer().Raw)
		good, _ := e.issue(t, e.alice, lanyard.UsageSignature)
		revoked, _ := e.issue(t, e.bob, lanyard.UsageAuthentication)
		if _, err := e.ca.RevokeCertificate(ctx, actor, revoked.Serial, lanyard.ReasonKeyCompromise); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name   string
			cert   *lanyard.Certificate
			want   string
			goWant int
		}{
			{"good", good, "good", ocsp.Good},
			{"revoked", revoked, "revoked", ocsp.Revoked},
		} {
			t.Run(tc.name, func(t *testing.T) {
				file := writePEM(t, dir, tc.name+".pem", "CERTIFICATE", tc.cert.DER)
				out := testenv.Run(t, openssl, "ocsp", "-no_nonce", "-issuer", issuing, "-cert", file, "-url", srv+"/pki/ocsp",
					"-CAfile", root, "-verify_other", issuing)
				if !strings.Contains(out, "Response verify OK") || !strings.Contains(out, file+": "+tc.want) || strings.Contains(out, "WARNING") {
					t.Fatalf("openssl ocsp by POST: want %s, got\n%s", tc.want, out)
				}
				der, err := ocsp.CreateRequest(mustParse(t, tc.cert.DER), e.ca.Issuer(), nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, get := range []bool{true, false} {
					body, _ := ocspQuery(t, srv, der, get)
					resp, err := ocsp.ParseResponseForCert(body, mustParse(t, tc.cert.DER), e.ca.Issuer())
					if err != nil || resp.Status != tc.goWant {
						t.Fatalf("Go OCSP client (GET %t): %v, status %v", get, err, resp)
					}
					if resp.Certificate != nil {
						t.Errorf("the response carries a certificate")
					}
					if !get {
						continue
					}
					respFile := filepath.Join(dir, tc.name+".der")
					os.WriteFile(respFile, body, 0o600)
					out := testenv.Run(t, openssl, "ocsp", "-respin", respFile, "-issuer", issuing, "-cert", file,
						"-CAfile", root, "-verify_other", issuing, "-no_nonce")
					if !strings.Contains(out, "Response verify OK") || !strings.Contains(out, file+": "+tc.want) {
						t.Fatalf("openssl ocsp -respin of the GET answer: want %s, got\n%s", tc.want, out)
					}
				}
				// With a nonce and no budget for it: the same response.
				out = testenv.Run(t, openssl, "ocsp", "-issuer", issuing, "-cert", file, "-url", srv+"/pki/ocsp",
					"-CAfile", root, "-verify_other", issuing)
				if !strings.Contains(out, "Response verify OK") || !strings.Contains(out, file+": "+tc.want) || !strings.Contains(out, "WARNING: no nonce in response") {
					t.Fatalf("openssl ocsp with a nonce beyond the budget:\n%s", out)
				}
			})
		}
		if st := e.ca.OCSPStats(); st.Signed != 0 || st.Memory+st.Database == 0 {
			t.Errorf("answers %+v: want all from responses signed ahead", st)
		}
	})
}

// TestOCSPResponseSurvivesRestart checks that the response stored with a
// certificate is what a new instance answers with, without signing, and
// that it keeps it in memory afterwards.
func TestOCSPResponseSurvivesRestart(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn, pki.Config{})
		c, _ := e.issue(t, e.alice, lanyard.UsageSignature)
		if _, err := e.ca.HoldCertificate(ctx, actor, c.Serial); err != nil {
			t.Fatal(err)
		}
		e.ca.Close()
		e.db.Close()

		// A new process: its own database handle and CA.
		ca, err := pki.Open(ctx, store.NewPKIStore(openDB(t, dsn)), pki.Config{
			PublicURL: e.cfg.PublicURL, MasterKeyFile: filepath.Join(e.cfg.DataDir, "master.key")})
		if err != nil {
			t.Fatal(err)
		}
		defer ca.Close()
		waitLive(t, ca)
		der, _ := ocsp.CreateRequest(mustParse(t, c.DER), ca.Issuer(), nil)
		h := ca.Handler()
		first := ocspGet(h, der, "")
		resp, err := ocsp.ParseResponse(first.Body.Bytes(), ca.Issuer())
		if err != nil || resp.Status != ocsp.Revoked || resp.RevocationReason != ocsp.CertificateHold {
			t.Fatalf("after the restart: %v %+v", err, resp)
		}
		if st := ca.OCSPStats(); st != (pki.OCSPStats{Database: 1}) {
			t.Errorf("first answer after the restart: %+v, want one from the database", st)
		}
		if again := ocspGet(h, der, ""); again.Body.String() != first.Body.String() {
			t.Error("the second answer differs")
		}
		if st := ca.OCSPStats(); st != (pki.OCSPStats{Database: 1, Memory: 1}) {
			t.Errorf("second answer: %+v, want one from memory", st)
		}
	})
}

// TestOCSPSignAhead controls time to check the sign-ahead job: it leaves
// young responses alone, signs again those an hour old (well before half
// their validity, when they stop being served), one instance at a time
// under the lease, and instances answer with the new response from the
// database without signing.
func TestOCSPSignAhead(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Now().UTC().Truncate(time.Second)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		e := newEnv(t, dsn, pki.Config{Now: clock})
		e.db.Now = clock
		other, err := pki.Open(ctx, store.NewPKIStore(openDBWithClock(t, dsn, clock)), pki.Config{
			PublicURL: e.cfg.PublicURL, MasterKeyFile: filepath.Join(e.cfg.DataDir, "master.key"), Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		c, _ := e.issue(t, e.alice, lanyard.UsageSignature)
		issued := clock()
		der, _ := ocsp.CreateRequest(mustParse(t, c.DER), e.ca.Issuer(), nil)
		thisUpdate := func(ca *pki.CA) time.Time {
			t.Helper()
			resp, err := ocsp.ParseResponse(ocspGet(ca.Handler(), der, "").Body.Bytes(), ca.Issuer())
			if err != nil || resp.Status != ocsp.Good {
				t.Fatalf("%v %+v", err, resp)
			}
			return resp.ThisUpdate
		}
		if got := thisUpdate(other); !got.Equal(issued) {
			t.Fatalf("thisUpdate %v, want the issuance %v", got, issued)
		}

		advance(59 * time.Minute)
		if n, err := e.ca.SignAheadOCSP(ctx); err != nil || n != 0 {
			t.Fatalf("sign ahead at 59 minutes: %d, %v; want nothing to do", n, err)
		}
		advance(2 * time.Minute)
		// Another instance holds the lease: this one signs nothing.
		if ok, err := e.st.AcquireOCSPLease(ctx, "another instance", clock().Add(time.Minute)); err != nil || !ok {
			t.Fatalf("take the lease: %t %v", ok, err)
		}
		if n, err := e.ca.SignAheadOCSP(ctx); err != nil || n != 0 {
			t.Fatalf("sign ahead under another's lease: %d, %v", n, err)
		}
		advance(2 * time.Minute) // the lease has expired
		refreshed := clock()
		if n, err := e.ca.SignAheadOCSP(ctx); err != nil || n < 1 {
			t.Fatalf("sign ahead at 63 minutes: %d, %v", n, err)
		}
		// The job gave its lease back: another instance may run at once,
		// and finds nothing to do.
		if n, err := other.SignAheadOCSP(ctx); err != nil || n != 0 {
			t.Fatalf("the other instance after the job: %d, %v", n, err)
		}
		// At two hours the issuance's response is no longer served: the
		// other instance reads the refreshed one.
		advance(issued.Add(2 * time.Hour).Sub(clock()))
		before := other.OCSPStats()
		if got := thisUpdate(other); !got.Equal(refreshed) {
			t.Errorf("other at two hours: thisUpdate %v, want the refresh %v", got, refreshed)
		}
		if st := other.OCSPStats(); st.Signed != before.Signed || st.Database != before.Database+1 {
			t.Errorf("at two hours: %+v then %+v, want one more from the database and none signed", before, st)
		}
	})
}

// openDBWithClock opens a database handle whose transactions read clock.
func openDBWithClock(tb testing.TB, dsn string, clock func() time.Time) *store.DB {
	db := openDB(tb, dsn)
	db.Now = clock
	return db
}

// cuttableStore is the real store with a status watch that a test can cut
// and resume, as a dropped LISTEN connection and its reconnection do.
type cuttableStore struct {
	*store.PKIStore
	watch *cuttableWatch
}

func (s *cuttableStore) WatchStatus(fn func([]string)) pki.StatusWatch {
	s.watch = &cuttableWatch{fn: fn}
	s.watch.inner = s.PKIStore.WatchStatus(s.watch.deliver)
	return s.watch
}

type cuttableWatch struct {
	inner pki.StatusWatch
	fn    func([]string)
	cut   atomic.Bool
	lost  atomic.Int32 // news that arrived while cut
}

// deliver passes on what the real watch tells, unless cut: then the news
// is lost, as on a broken connection.
func (w *cuttableWatch) deliver(serials []string) {
	if !w.cut.Load() {
		w.fn(serials)
		return
	}
	w.lost.Add(1)
}

func (w *cuttableWatch) Live() bool { return !w.cut.Load() && w.inner.Live() }
func (w *cuttableWatch) Close()     { w.inner.Close() }

// resume is what a watch does when it listens again: forget, then live.
func (w *cuttableWatch) resume() { w.fn(nil); w.cut.Store(false) }

// TestOCSPWatchDownFallsBack checks that an instance whose status watch is
// down, and so misses another instance's change, answers from the
// database, and from memory again once the watch resumes.
func TestOCSPWatchDownFallsBack(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn, pki.Config{})
		st := &cuttableStore{PKIStore: store.NewPKIStore(openDB(t, dsn))}
		b, err := pki.Open(ctx, st, pki.Config{PublicURL: e.cfg.PublicURL, MasterKeyFile: filepath.Join(e.cfg.DataDir, "master.key")})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		c, _ := e.issue(t, e.alice, lanyard.UsageSignature)
		der, _ := ocsp.CreateRequest(mustParse(t, c.DER), b.Issuer(), nil)
		status := func() int {
			t.Helper()
			resp, err := ocsp.ParseResponse(ocspGet(b.Handler(), der, "").Body.Bytes(), b.Issuer())
			if err != nil {
				t.Fatal(err)
			}
			return resp.Status
		}
		waitLive(t, b)
		status()
		if status() != ocsp.Good || b.OCSPStats().Memory == 0 {
			t.Fatalf("before the cut: %+v", b.OCSPStats())
		}
		st.watch.cut.Store(true)
		if _, err := e.ca.RevokeCertificate(ctx, actor, c.Serial, lanyard.ReasonSuperseded); err != nil {
			t.Fatal(err)
		}
		before := b.OCSPStats()
		if got := status(); got != ocsp.Revoked {
			t.Fatalf("with the watch down, B says %d after a revocation on A", got)
		}
		if st := b.OCSPStats(); st.Database != before.Database+1 || st.Memory != before.Memory {
			t.Errorf("with the watch down: %+v then %+v, want an answer from the database", before, st)
		}
		// The news of the revocation must reach B while cut, as it does
		// on a broken connection; arriving after the resume, it would
		// rightly drop the answer B is about to hold in memory.
		for deadline := time.Now().Add(10 * time.Second); st.watch.lost.Load() == 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the revocation never reached B's status watch")
			}
		}
		st.watch.resume()
		status()
		before = b.OCSPStats()
		if got := status(); got != ocsp.Revoked || b.OCSPStats().Memory != before.Memory+1 {
			t.Errorf("after the watch resumed: status %d, %+v then %+v", got, before, b.OCSPStats())
		}
	})
}

// waitLive waits until ca's status watch is live, as it is soon after the
// start.
func waitLive(t *testing.T, ca *pki.CA) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ca.OCSPWatchLive(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the OCSP status watch never became live")
		}
	}
}

// httptestServer serves ca's relying-party endpoints until the test ends.
func httptestServer(t *testing.T, ca *pki.CA) string {
	srv := httptest.NewServer(ca.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestOCSPChangeUnderLoad changes a certificate's status back and forth
// while other goroutines ask about it without pause, and checks after each
// change that the instance's next answer has the new status: an answer
// read from the database just before the change is never kept after it.
func TestOCSPChangeUnderLoad(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn, pki.Config{})
		waitLive(t, e.ca)
		c, _ := e.issue(t, e.alice, lanyard.UsageSignature)
		der, _ := ocsp.CreateRequest(mustParse(t, c.DER), e.ca.Issuer(), nil)
		h := e.ca.Handler()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
						ocspGet(h, der, "")
					}
				}
			}()
		}
		defer func() { close(stop); wg.Wait() }()
		for i := range 20 {
			var err error
			want := ocsp.Revoked
			if i%2 == 0 {
				_, err = e.ca.HoldCertificate(ctx, actor, c.Serial)
			} else {
				_, err = e.ca.ReleaseCertificate(ctx, actor, c.Serial)
				want = ocsp.Good
			}
			if err != nil {
				t.Fatal(err)
			}
			resp, err := ocsp.ParseResponse(ocspGet(h, der, "").Body.Bytes(), e.ca.Issuer())
			if err != nil || resp.Status != want {
				t.Fatalf("change %d: %v, status %d, want %d", i, err, resp.Status, want)
			}
		}
	})
}

// pausingStore is the real store whose FindOCSPResponse, when paused,
// waits after reading until the test lets it return.
type pausingStore struct {
	*store.PKIStore
	read, resume chan struct{}
}

func (s *pausingStore) FindOCSPResponse(ctx context.Context, serial string) (*pki.OCSPRecord, error) {
	rec, err := s.PKIStore.FindOCSPResponse(ctx, serial)
	if s.read != nil {
		s.read <- struct{}{}
		<-s.resume
	}
	return rec, err
}

// TestOCSPReadBeforeChangeNotKept lets an answer read from the database
// before a revocation return only after the revocation committed: it is
// not kept in memory, so the next answer says revoked.
func TestOCSPReadBeforeChangeNotKept(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn, pki.Config{})
		st := &pausingStore{PKIStore: store.NewPKIStore(openDB(t, dsn))}
		b, err := pki.Open(ctx, st, pki.Config{PublicURL: e.cfg.PublicURL, MasterKeyFile: filepath.Join(e.cfg.DataDir, "master.key")})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		waitLive(t, b)
		c, _ := e.issue(t, e.alice, lanyard.UsageSignature)
		der, _ := ocsp.CreateRequest(mustParse(t, c.DER), b.Issuer(), nil)
		status := func() int {
			resp, err := ocsp.ParseResponse(ocspGet(b.Handler(), der, "").Body.Bytes(), b.Issuer())
			if err != nil {
				t.Error(err)
				return -1
			}
			return resp.Status
		}
		st.read, st.resume = make(chan struct{}), make(chan struct{})
		first := make(chan int)
		go func() { first <- status() }()
		<-st.read // the answer has read "good"
		st.read = nil
		if _, err := b.RevokeCertificate(ctx, actor, c.Serial, lanyard.ReasonSuperseded); err != nil {
			t.Fatal(err)
		}
		close(st.resume)
		if got := <-first; got != ocsp.Good {
			t.Fatalf("the answer read before the revocation says %d", got)
		}
		if got := status(); got != ocsp.Revoked {
			t.Fatalf("the next answer after the revocation says %d", got)
		}
	})
}

// TestOCSPResponseSize keeps the stored response small: no certificates,
// one single response, a P-256 signature.
func TestOCSPResponseSize(t *testing.T) {
	e := newEnv(t, testenv.DSN(t, "sqlite"), pki.Config{})
	c, _ := e.issue(t, e.alice, lanyard.UsageSignature)
	der, _ := ocsp.CreateRequest(mustParse(t, c.DER), e.ca.Issuer(), nil)
	body := ocspGet(e.ca.Handler(), der, "").Body.Bytes()
	t.Logf("response: %d bytes", len(body))
	if len(body) > 400 {
		t.Errorf("a response of %d bytes", len(body))
	}
}
