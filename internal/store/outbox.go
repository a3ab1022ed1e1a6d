package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/secret"
)

var _ lanyard.MailQueue = (*Outbox)(nil)

// Outbox is the mail queue in the database. Bodies are sealed with a key
// derived from the master key and bound to their envelope.
type Outbox struct {
	db  *DB
	box *secret.Box
}

// OpenOutbox returns the outbox of db with its key derived from the
// master key.
func OpenOutbox(db *DB, master []byte) (*Outbox, error) {
	box, err := secret.New(master, "outbox")
	if err != nil {
		return nil, fmt.Errorf("outbox key: %w", err)
	}
	return NewOutbox(db, box), nil
}

// NewOutbox returns the outbox of db sealing bodies with box. From then on
// every store method that reports a change by mail queues it in the
// transaction of the change.
func NewOutbox(db *DB, box *secret.Box) *Outbox {
	db.mailBox = box
	return &Outbox{db: db, box: box}
}

// mailBody is what is sealed: everything of a mail but its envelope.
type mailBody struct {
	Text     string `json:"text"`
	HTML     string `json:"html,omitempty"`
	ImagePNG []byte `json:"image_png,omitempty"`
}

// QueueMail stores a mail for delivery on its own, for mail that reports
// no change of its own.
func (o *Outbox) QueueMail(ctx context.Context, actor lanyard.Actor, m lanyard.Mail) error {
	return o.db.inTx(ctx, func(tx *Tx) error { return tx.queueMails(ctx, actor, m) })
}

// queueMails stores mails in tx, so they are queued exactly when the
// change they report commits.
func (tx *Tx) queueMails(ctx context.Context, actor lanyard.Actor, mails ...lanyard.Mail) error {
	if len(mails) > 0 && tx.db.mailBox == nil {
		return fmt.Errorf("queue mail: the outbox is not open")
	}
	for _, m := range mails {
		body, err := json.Marshal(mailBody{Text: m.Text, HTML: m.HTML, ImagePNG: m.ImagePNG})
		if err != nil {
			return fmt.Errorf("encode mail: %w", err)
		}
		ref := rand.Text()
		sealed, err := tx.db.mailBox.Seal(body, sealBinding(0, ref, m.To, m.Subject, m.Kind))
		if err != nil {
			return fmt.Errorf("seal mail: %w", err)
		}
		if err := tx.execLater(ctx, nil, `INSERT INTO outbox (to_addr, subject, kind, body, seal_ref, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			m.To, m.Subject, m.Kind, sealed, ref, encodeTime(tx.now)); err != nil {
			return fmt.Errorf("queue mail: %w", err)
		}
		if err := tx.insertAudit(ctx, actor, "mail.queue", m.To, fmt.Sprintf("%s: %s", m.Kind, m.Subject)); err != nil {
			return err
		}
	}
	return nil
}

// sealBinding is what a mail's seal is bound to: its own reference and
// its envelope, so that a body moved to another row, or a row whose
// recipient was changed, does not open. A mail sealed before the rows had
// references (ref empty) is bound to its row's ID.
func sealBinding(id int64, ref, to, subject, kind string) string {
	if ref == "" {
		return "outbox " + strconv.FormatInt(id, 10)
	}
	return strings.Join([]string{"outbox", ref, to, subject, kind}, "\x00")
}

// FindMail returns a queued mail with its body opened.
func (o *Outbox) FindMail(ctx context.Context, id int64) (*lanyard.OutboxMessage, *lanyard.Mail, error) {
	var msg lanyard.OutboxMessage
	var body []byte
	var created, sent int64
	var ref string
	err := o.db.queryRow(ctx, `SELECT id, to_addr, subject, kind, body, seal_ref, created_at, sent_at, attempts, last_error FROM outbox WHERE id = ?`, id).
		Scan(&msg.ID, &msg.To, &msg.Subject, &msg.Kind, &body, &ref, &created, &sent, &msg.Attempts, &msg.LastError)
	if errNoRows(err) {
		return nil, nil, lanyard.Errorf(lanyard.ENOTFOUND, "There is no such mail.")
	} else if err != nil {
		return nil, nil, fmt.Errorf("find mail: %w", err)
	}
	msg.CreatedAt, msg.SentAt = decodeTime(created), decodeTime(sent)
	plain, err := o.box.Open(body, sealBinding(id, ref, msg.To, msg.Subject, msg.Kind))
	if err != nil {
		return nil, nil, fmt.Errorf("open mail %d: %w", id, err)
	}
	var b mailBody
	if err := json.Unmarshal(plain, &b); err != nil {
		return nil, nil, fmt.Errorf("decode mail %d: %w", id, err)
	}
	return &msg, &lanyard.Mail{To: msg.To, Subject: msg.Subject, Kind: msg.Kind, Text: b.Text, HTML: b.HTML, ImagePNG: b.ImagePNG}, nil
}

// ListMail lists the outbox, newest first, without bodies.
func (o *Outbox) ListMail(ctx context.Context, limit int) ([]*lanyard.OutboxMessage, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	msgs, err := queryAll(ctx, o.db, `SELECT id, to_addr, subject, kind, created_at, sent_at, attempts, last_error FROM outbox ORDER BY id DESC LIMIT `+strconv.Itoa(limit),
		nil, func(s scanner) (*lanyard.OutboxMessage, error) {
			var m lanyard.OutboxMessage
			var created, sent int64
			err := s.Scan(&m.ID, &m.To, &m.Subject, &m.Kind, &created, &sent, &m.Attempts, &m.LastError)
			m.CreatedAt, m.SentAt = decodeTime(created), decodeTime(sent)
			return &m, err
		})
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return msgs, nil
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
