// Package mail delivers the outbox over SMTP: a job claims due mail, sends
// it, and records the result, retrying failures with growing delays. An
// SMTP outage delays mail; it never loses it or fails the change that
// queued it.
package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Outbox is what the sender needs of the outbox.
type Outbox interface {
	ClaimMail(ctx context.Context, lease time.Duration) (*store.DueMail, error)
	MarkMailSent(ctx context.Context, d *store.DueMail) error
	MarkMailFailed(ctx context.Context, d *store.DueMail, reason string, retryAt time.Time) error
}

// Config is how to reach the SMTP server.
type Config struct {
	Addr     string // HOST:PORT
	TLS      string // none, starttls or tls
	User     string
	Password string
	From     string
	// TLSConfig overrides the TLS settings, e.g. a test's own CA.
	TLSConfig *tls.Config
}

// Sender delivers due mail from the outbox.
type Sender struct {
	Outbox Outbox
	Config Config
	Logger *slog.Logger
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Delivered counts attempts by result (sent, failed); nil counts nothing.
	Delivered *prometheus.CounterVec
	// RetryAfter is the wait after a first failed attempt (default 30
	// s); it doubles with each further failure, up to an hour.
	RetryAfter time.Duration
	// Lease is how long one delivery attempt holds its mail (default two
	// minutes); the attempt gives up after half of it, so no other
	// instance sends the mail while it may still be sending.
	Lease time.Duration
}

// NewDeliveredCounter returns the counter of delivery attempts, registered
// in reg.
func NewDeliveredCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lanyard_mail_attempts_total", Help: "SMTP delivery attempts by result: sent or failed.",
	}, []string{"result"})
	if err := reg.Register(c); err != nil {
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) {
			return already.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	return c
}

func (s *Sender) count(result string) {
	if s.Delivered != nil {
		s.Delivered.WithLabelValues(result).Inc()
	}
}

// defaultLease is how long a claimed mail is left to one attempt.
const defaultLease = 2 * time.Minute

// batch bounds the mails one SendDue sends, so the job comes back to its
// other work.
const batch = 50

func (s *Sender) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return defaultLease
}

// Backoff returns the delay before the next attempt after attempts failed
// ones: 30 s, 1 min, 2 min, … up to an hour.
func Backoff(attempts int) time.Duration { return backoff(30*time.Second, attempts) }

func (s *Sender) backoff(attempts int) time.Duration {
	if s.RetryAfter > 0 {
		return backoff(s.RetryAfter, attempts)
	}
	return Backoff(attempts)
}

func backoff(first time.Duration, attempts int) time.Duration {
	d := first
	for range min(attempts, 7) {
		d *= 2
	}
	return min(d, time.Hour)
}

// SendDue sends the mail that is due, one claim at a time, and returns
// how many were sent and how many failed.
func (s *Sender) SendDue(ctx context.Context) (sent, failed int, err error) {
	// The client is made before any claim, so that a bad setting leaves
	// no mail claimed as if an attempt had started.
	client, err := s.client()
	if err != nil {
		return 0, 0, err
	}
	for range batch {
		d, err := s.Outbox.ClaimMail(ctx, s.lease())
		if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
			return sent, failed, nil
		} else if err != nil {
			return sent, failed, err
		}
		ok, err := s.deliver(ctx, client, d)
		if ok {
			sent++
		} else {
			failed++
		}
		if err != nil {
			return sent, failed, err
		}
	}
	return sent, failed, nil
}

// deliver makes one attempt at a claimed mail, within half its lease, and
// records the result.
func (s *Sender) deliver(ctx context.Context, client *gomail.Client, d *store.DueMail) (bool, error) {
	if d.Unsure {
		s.Logger.Warn("an earlier attempt may have delivered this mail; sending it again with the same Message-ID",
			"mail", d.ID, "kind", d.Mail.Kind, "message_id", d.MessageID)
	}
	sendCtx, cancel := context.WithTimeout(ctx, s.lease()/2)
	defer cancel()
	msg, err := s.message(d)
	if err == nil {
		err = client.DialAndSendWithContext(sendCtx, msg)
	}
	if err != nil {
		s.count("failed")
		retry := s.now().Add(s.backoff(d.Attempts))
		s.Logger.Warn("mail not delivered; will retry", "mail", d.ID, "kind", d.Mail.Kind, "attempt", d.Attempts+1, "retry_at", retry, "err", err)
		return false, s.record(s.Outbox.MarkMailFailed(context.WithoutCancel(ctx), d, err.Error(), retry), d)
	}
	s.count("sent")
	if err := s.record(s.Outbox.MarkMailSent(context.WithoutCancel(ctx), d), d); err != nil {
		return true, err
	}
	s.Logger.Info("mail delivered", "mail", d.ID, "kind", d.Mail.Kind, "message_id", d.MessageID)
	return true, nil
}

// record reports the result of recording an attempt; a claim lost to
// another attempt is logged, since the mail may then go out twice.
func (s *Sender) record(err error, d *store.DueMail) error {
	if lanyard.ErrorCode(err) == lanyard.ECONFLICT {
		s.Logger.Error("the attempt outlived its lease; another attempt claimed the mail", "mail", d.ID, "message_id", d.MessageID)
		return nil
	}
	return err
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) client() (*gomail.Client, error) {
	host, portText, err := net.SplitHostPort(s.Config.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp address %q: %w", s.Config.Addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("smtp port %q: %w", portText, err)
	}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(min(30*time.Second, s.lease()/2))}
	switch s.Config.TLS {
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case "tls":
		opts = append(opts, gomail.WithSSL())
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.Config.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(s.Config.TLSConfig))
	}
	if s.Config.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.Config.User), gomail.WithPassword(s.Config.Password))
	}
	c, err := gomail.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	return c, nil
}

// message renders a mail: plain text, an HTML alternative, and the PNG
// embedded inline as cid:image, with the mail's own Message-ID at the
// sender's domain.
func (s *Sender) message(d *store.DueMail) (*gomail.Msg, error) {
	m := d.Mail
	msg := gomail.NewMsg()
	if err := msg.From(s.Config.From); err != nil {
		return nil, fmt.Errorf("sender address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("recipient address: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	domain := "localhost.localdomain"
	if _, after, ok := strings.Cut(s.Config.From, "@"); ok && after != "" {
		domain = strings.TrimSuffix(after, ">")
	}
	msg.SetMessageIDWithValue(d.MessageID + "@" + domain)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	if len(m.ImagePNG) > 0 {
		if err := msg.EmbedReader("qr-code.png", bytes.NewReader(m.ImagePNG), gomail.WithFileContentID("<image>"),
			gomail.WithFileContentType(gomail.ContentType("image/png"))); err != nil {
			return nil, fmt.Errorf("embed image: %w", err)
		}
	}
	return msg, nil
}
