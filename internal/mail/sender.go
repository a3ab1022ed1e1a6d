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
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Outbox is what the sender needs of the outbox.
type Outbox interface {
	ClaimDueMail(ctx context.Context, lease time.Duration, limit int) ([]store.DueMail, error)
	MarkMailSent(ctx context.Context, id int64) error
	MarkMailFailed(ctx context.Context, id int64, reason string, retryAt time.Time) error
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

// lease is how long a claimed mail is left to one sender.
const lease = 2 * time.Minute

// Backoff returns the delay before the next attempt after attempts failed
// ones: 30 s, 1 min, 2 min, … up to an hour.
func Backoff(attempts int) time.Duration {
	d := 30 * time.Second
	for range min(attempts, 7) {
		d *= 2
	}
	return min(d, time.Hour)
}

// SendDue sends the mail that is due and returns how many were sent and
// how many failed.
func (s *Sender) SendDue(ctx context.Context) (sent, failed int, err error) {
	due, err := s.Outbox.ClaimDueMail(ctx, lease, 50)
	if err != nil || len(due) == 0 {
		return 0, 0, err
	}
	client, err := s.client()
	if err != nil {
		return 0, 0, err
	}
	for _, d := range due {
		msg, err := s.message(d.Mail)
		if err == nil {
			err = client.DialAndSendWithContext(ctx, msg)
		}
		if err != nil {
			failed++
			s.count("failed")
			retry := s.now().Add(Backoff(d.Attempts))
			s.Logger.Warn("mail not delivered; will retry", "mail", d.ID, "kind", d.Mail.Kind, "attempt", d.Attempts+1, "retry_at", retry, "err", err)
			if err := s.Outbox.MarkMailFailed(ctx, d.ID, err.Error(), retry); err != nil {
				return sent, failed, err
			}
			continue
		}
		sent++
		s.count("sent")
		if err := s.Outbox.MarkMailSent(ctx, d.ID); err != nil {
			return sent, failed, err
		}
		s.Logger.Info("mail delivered", "mail", d.ID, "kind", d.Mail.Kind)
	}
	return sent, failed, nil
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
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(30 * time.Second)}
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
// embedded inline as cid:image.
func (s *Sender) message(m *lanyard.Mail) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(s.Config.From); err != nil {
		return nil, fmt.Errorf("sender address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("recipient address: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
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
