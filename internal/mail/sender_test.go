package mail_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lanyard-id/lanyard"
	lmail "github.com/lanyard-id/lanyard/internal/mail"
	"github.com/lanyard-id/lanyard/internal/secret"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// inbox is a real SMTP server, in process, that keeps what it receives.
type inbox struct {
	mu   sync.Mutex
	msgs [][]byte
	rcpt []string
	addr string
	srv  *smtp.Server
	// delay slows down each message, as a busy SMTP server does.
	delay time.Duration
}

type session struct{ in *inbox }

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error {
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.in.mu.Lock()
	defer s.in.mu.Unlock()
	s.in.rcpt = append(s.in.rcpt, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	time.Sleep(s.in.delay)
	s.in.mu.Lock()
	defer s.in.mu.Unlock()
	s.in.msgs = append(s.in.msgs, b)
	return err
}

// startInbox serves SMTP on addr ("" for a free port), with STARTTLS when
// cert is given.
func startInbox(t *testing.T, addr string, cert *tls.Certificate) *inbox {
	t.Helper()
	in := &inbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{in: in}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	in.addr, in.srv = ln.Addr().String(), srv
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return in
}

func (in *inbox) received() [][]byte {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([][]byte(nil), in.msgs...)
}

func newOutbox(t *testing.T, dsn string) (*store.Outbox, *store.DB) {
	t.Helper()
	db := testenv.OpenDB(t, dsn)
	box, err := secret.New(bytes.Repeat([]byte{1}, 32), "outbox")
	if err != nil {
		t.Fatal(err)
	}
	return store.NewOutbox(db, box), db
}

var qrMail = lanyard.Mail{
	To: "alice@example.com", Subject: "Activate your mobile ID", Kind: "qr_code",
	Text: "Scan the QR code.", HTML: `<p><img src="cid:image" alt="QR code"></p>`, ImagePNG: []byte("\x89PNG fake image"),
}

func TestDeliveryWithInlineImage(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ob, _ := newOutbox(t, dsn)
		in := startInbox(t, "", nil)
		if err := ob.QueueMail(t.Context(), lanyard.SystemActor, qrMail); err != nil {
			t.Fatal(err)
		}
		s := &lmail.Sender{Outbox: ob, Logger: slog.New(slog.DiscardHandler),
			Config: lmail.Config{Addr: in.addr, TLS: "none", From: "lanyard@example.com"}}
		sent, failed, err := s.SendDue(t.Context())
		if err != nil || sent != 1 || failed != 0 {
			t.Fatalf("SendDue = %d, %d, %v", sent, failed, err)
		}
		msgs := in.received()
		if len(msgs) != 1 {
			t.Fatalf("%d messages received", len(msgs))
		}
		m, err := mail.ReadMessage(bytes.NewReader(msgs[0]))
		if err != nil {
			t.Fatal(err)
		}
		raw := string(msgs[0])
		if m.Header.Get("Subject") != qrMail.Subject || m.Header.Get("To") != "<alice@example.com>" ||
			!strings.Contains(raw, "multipart/related") || !strings.Contains(raw, "Content-Id: <image>") && !strings.Contains(raw, "Content-ID: <image>") {
			t.Fatalf("message:\n%s", raw)
		}
		// Sent mail is not sent again.
		if sent, _, _ := s.SendDue(t.Context()); sent != 0 {
			t.Fatal("a delivered mail was sent again")
		}
		list, _ := ob.ListMail(t.Context(), 10)
		if list[0].SentAt.IsZero() || list[0].Attempts != 1 {
			t.Fatalf("outbox row %+v", list[0])
		}
	})
}

func TestOutageDelaysButLosesNothing(t *testing.T) {
	ob, db := newOutbox(t, testenv.DSN(t, "sqlite"))
	now := time.Now()
	db.Now = func() time.Time { return now }
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens: the SMTP server is down
	ob.QueueMail(t.Context(), lanyard.SystemActor, qrMail)
	s := &lmail.Sender{Outbox: ob, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
		Config: lmail.Config{Addr: addr, TLS: "none", From: "lanyard@example.com"}}
	for attempt := range 3 {
		sent, failed, err := s.SendDue(t.Context())
		if err != nil || sent != 0 || failed != 1 {
			t.Fatalf("attempt %d: %d sent, %d failed, %v", attempt, sent, failed, err)
		}
		list, _ := ob.ListMail(t.Context(), 1)
		if list[0].Attempts != attempt+1 || list[0].LastError == "" {
			t.Fatalf("after attempt %d: %+v", attempt, list[0])
		}
		// Not due again before the back-off ends.
		if _, failed, _ := s.SendDue(t.Context()); failed != 0 {
			t.Fatal("retried before the back-off ended")
		}
		now = now.Add(lmail.Backoff(attempt) + time.Second)
	}
	in := startInbox(t, addr, nil)
	if sent, _, err := s.SendDue(t.Context()); sent != 1 || err != nil {
		t.Fatalf("after the outage: %d sent, %v", sent, err)
	}
	if len(in.received()) != 1 {
		t.Fatalf("%d messages after the outage", len(in.received()))
	}
}

func TestEachMailOnceAcrossInstances(t *testing.T) {
	dsn := testenv.DSN(t, "postgres")
	ob, _ := newOutbox(t, dsn)
	ob2, _ := newOutbox(t, dsn)
	in := startInbox(t, "", nil)
	for range 20 {
		ob.QueueMail(t.Context(), lanyard.SystemActor, qrMail)
	}
	var wg sync.WaitGroup
	for _, o := range []*store.Outbox{ob, ob2, ob, ob2} {
		s := &lmail.Sender{Outbox: o, Logger: slog.New(slog.DiscardHandler), Config: lmail.Config{Addr: in.addr, TLS: "none", From: "lanyard@example.com"}}
		wg.Go(func() {
			if _, _, err := s.SendDue(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(in.received()); n != 20 {
		t.Fatalf("%d messages delivered for 20 queued", n)
	}
}

func TestStartTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	ob, _ := newOutbox(t, testenv.DSN(t, "sqlite"))
	in := startInbox(t, "", &cert)
	ob.QueueMail(t.Context(), lanyard.SystemActor, qrMail)
	s := &lmail.Sender{Outbox: ob, Logger: slog.New(slog.DiscardHandler),
		Config: lmail.Config{Addr: in.addr, TLS: "starttls", From: "lanyard@example.com", TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	if sent, _, err := s.SendDue(t.Context()); sent != 1 || err != nil {
		t.Fatalf("STARTTLS: %d sent, %v", sent, err)
	}
	// Without TLS on the server, starttls refuses to send in clear.
	plain := startInbox(t, "", nil)
	ob.QueueMail(t.Context(), lanyard.SystemActor, qrMail)
	s.Config.Addr = plain.addr
	if _, failed, _ := s.SendDue(t.Context()); failed != 1 || len(plain.received()) != 0 {
		t.Fatal("starttls sent in clear to a server without TLS")
	}
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute}
	for i, w := range want {
		if got := lmail.Backoff(i); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", i, got, w)
		}
	}
	if lmail.Backoff(100) != time.Hour {
		t.Error("back-off is not capped at an hour")
	}
}

func TestDeliveredCounterRegisteredOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, b := lmail.NewDeliveredCounter(reg), lmail.NewDeliveredCounter(reg)
	b.WithLabelValues("sent").Inc()
	if got := testutil.ToFloat64(a.WithLabelValues("sent")); got != 1 {
		t.Fatalf("the second counter is not the registered one: %v", got)
	}
}
