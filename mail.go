package lanyard

import (
	"context"
	"time"
)

// Mail is a message to a user. Bodies may hold activation links, so the
// outbox stores them only encrypted.
type Mail struct {
	To      string
	Subject string
	Text    string
	// HTML is an optional HTML body; an inline PNG image, if any, is
	// referenced from it as cid:image.
	HTML     string
	ImagePNG []byte
	// Kind names the mail for the outbox listing, e.g. "qr_code".
	Kind string
}

// MailQueue accepts mail for delivery. A mail it accepted is never lost:
// it is sent by a background job with retries, or stays in the outbox.
type MailQueue interface {
	QueueMail(ctx context.Context, actor Actor, m Mail) error
}

// OutboxMessage is a mail as the outbox lists it, without its body.
type OutboxMessage struct {
	ID        int64
	To        string
	Subject   string
	Kind      string
	CreatedAt time.Time
	SentAt    time.Time
	Attempts  int
	LastError string
}
