package e2e_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// smtpInbox is a real SMTP server in the test process.
type smtpInbox struct {
	mu   sync.Mutex
	msgs [][]byte
}

type smtpSession struct{ in *smtpInbox }

func (s smtpSession) Reset()                               {}
func (s smtpSession) Logout() error                        { return nil }
func (s smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.in.mu.Lock()
	s.in.msgs = append(s.in.msgs, b)
	s.in.mu.Unlock()
	return err
}

func startSMTP(t *testing.T) (*smtpInbox, string) {
	t.Helper()
	in := &smtpInbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return smtpSession{in}, nil }))
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return in, ln.Addr().String()
}

// waitMail waits for a mail whose subject contains subject.
func (in *smtpInbox) waitMail(t *testing.T, subject string) *mail.Message {
	t.Helper()
	var found *mail.Message
	ok := waitFor(15*time.Second, func() bool {
		in.mu.Lock()
		defer in.mu.Unlock()
		for _, raw := range in.msgs {
			m, err := mail.ReadMessage(bytes.NewReader(raw))
			if err == nil && strings.Contains(m.Header.Get("Subject"), subject) {
				found = m
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("no mail with subject %q arrived within 15 s", subject)
	}
	return found
}

// inlinePNG returns the inline image/png part of a multipart mail.
func inlinePNG(t *testing.T, m *mail.Message) []byte {
	t.Helper()
	var walk func(r io.Reader, contentType string) []byte
	walk = func(r io.Reader, contentType string) []byte {
		mt, params, err := mime.ParseMediaType(contentType)
		if err != nil || !strings.HasPrefix(mt, "multipart/") {
			return nil
		}
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return nil
			}
			ct := p.Header.Get("Content-Type")
			if strings.HasPrefix(ct, "image/png") {
				if p.Header.Get("Content-Id") != "<image>" {
					t.Errorf("the image's Content-ID is %q, want <image> (the HTML shows cid:image)", p.Header.Get("Content-Id"))
				}
				b, _ := io.ReadAll(p)
				png, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
				if err != nil {
					t.Fatalf("decode the image: %v", err)
				}
				return png
			}
			if png := walk(p, ct); png != nil {
				return png
			}
		}
	}
	png := walk(m.Body, m.Header.Get("Content-Type"))
	if png == nil {
		t.Fatal("the mail has no inline PNG")
	}
	return png
}

// TestQRCodeByEmail runs "Get mobile ID" with show_qr_code = False: the
// page says the code went by email, the mail arrives over real SMTP with
// the QR code inline, the app enrolls from that image, and the "created"
// notification follows.
func TestQRCodeByEmail(t *testing.T) {
	inbox, smtpAddr := startSMTP(t)
	in := newInstance(t, "sqlite")
	addUser(t, in, "alice", "alice's password")
	src := mustLanyard(t, append([]string{"options", "show", getProcess}, in.args()...)...).stdout
	file := writeFile(t, t.TempDir(), "get.star", strings.Replace(src, "show_qr_code = True", "show_qr_code = False", 1))
	mustLanyard(t, append([]string{"options", "set", getProcess, file}, in.args()...)...)

	s := startServer(t, in, "--smtp-addr", smtpAddr, "--smtp-tls", "none", "--mail-from", "lanyard@example.com")
	s.waitReady()
	ck := mustLogin(t, s.url, "alice", "alice's password")
	start := fetch(t, nil, s.url+"/mobile-id/get", url.Values{"action": {"next"}}, ck)
	if start.status != http.StatusSeeOther {
		t.Fatalf("Next on the introduction: %d", start.status)
	}
	page := fetch(t, nil, s.url+start.location(), nil, ck)
	if !strings.Contains(page.body, "The QR code was sent to your email address alice@example.com") || strings.Contains(page.body, `alt="QR code"`) {
		t.Fatalf("the activation page does not say the code went by email:\n%s", page.body)
	}

	m := inbox.waitMail(t, "Activate your mobile ID")
	if to := m.Header.Get("To"); !strings.Contains(to, "alice@example.com") {
		t.Fatalf("mail to %q", to)
	}
	qr := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(qr, inlinePNG(t, m), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newPhone(t)
	if name := p.enroll(qr); name != aliceProfile {
		t.Fatalf("lanyard-app enroll printed %q", name)
	}
	finish := fetch(t, nil, s.url+start.location()+"/finish", url.Values{}, ck)
	if finish.status != http.StatusSeeOther || !saysActive(t, s.url, ck, finish) {
		t.Fatalf("Next after enrollment: %d %q", finish.status, finish.header.Get("Location"))
	}
	inbox.waitMail(t, "Your mobile ID is active")
}
