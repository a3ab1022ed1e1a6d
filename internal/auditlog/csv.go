package auditlog

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/lanyard-id/lanyard"
)

// Source is where a chain is read from: the database, or an export.
type Source interface {
	// EachAuditEvent calls fn for every event in the order of their
	// numbers.
	EachAuditEvent(ctx context.Context, fn func(*lanyard.AuditEvent) error) error
	AuditCheckpoints(ctx context.Context) ([]*lanyard.AuditCheckpoint, error)
}

// Chainer is a Source that can chain its events not yet chained: the
// database, where on PostgreSQL events join the chain after they commit.
type Chainer interface {
	ChainAudit(ctx context.Context) (int, error)
}

// Chain chains the events of src not yet chained when src is a Chainer,
// so that a reading of the whole chain that follows leaves out only the
// events of the last moments.
func Chain(ctx context.Context, src Source) error {
	if c, ok := src.(Chainer); ok {
		_, err := c.ChainAudit(ctx)
		return err
	}
	return nil
}

// Verify checks the whole chain of src against the audit key pub, after
// chaining what src can chain (Chain).
func Verify(ctx context.Context, src Source, pub crypto.PublicKey) (Result, error) {
	if err := Chain(ctx, src); err != nil {
		return Result{}, err
	}
	cps, err := src.AuditCheckpoints(ctx)
	if err != nil {
		return Result{}, err
	}
	v := NewVerifier(pub, cps)
	if err := src.EachAuditEvent(ctx, func(e *lanyard.AuditEvent) error { v.Add(e); return nil }); err != nil {
		return Result{}, err
	}
	return v.Finish(), nil
}

// csvHeader is the first line of an export. Checkpoints come first, then
// the events in the order of their numbers; a row's kind says which.
var csvHeader = []string{"kind", "seq", "time", "actor", "addr", "action", "subject", "detail", "prev_hash", "hash", "signature"}

// timeFormat keeps every microsecond, which the hashes cover.
const timeFormat = "2006-01-02T15:04:05.000000Z07:00"

// CSVWriter writes an export: checkpoints, then events.
type CSVWriter struct{ w *csv.Writer }

// NewCSVWriter starts an export on w with its header.
func NewCSVWriter(w io.Writer) (*CSVWriter, error) {
	cw := &CSVWriter{w: csv.NewWriter(w)}
	return cw, cw.w.Write(csvHeader)
}

// Checkpoint writes a checkpoint row.
func (cw *CSVWriter) Checkpoint(c *lanyard.AuditCheckpoint) error {
	return cw.w.Write([]string{"checkpoint", strconv.FormatInt(c.Seq, 10), c.Time.UTC().Format(timeFormat), "", "", "", "", "", "", c.Hash,
		base64.StdEncoding.EncodeToString(c.Signature)})
}

// Event writes an event row.
func (cw *CSVWriter) Event(e *lanyard.AuditEvent) error {
	return cw.w.Write([]string{"event", strconv.FormatInt(e.Seq, 10), e.Time.UTC().Format(timeFormat),
		e.Actor, e.Addr, e.Action, e.Subject, e.Detail, e.PrevHash, e.Hash, ""})
}

// Flush ends the export.
func (cw *CSVWriter) Flush() error {
	cw.w.Flush()
	return cw.w.Error()
}

// Export is an export read back: a Source.
type Export struct {
	Events      []*lanyard.AuditEvent
	Checkpoints []*lanyard.AuditCheckpoint
}

var _ Source = (*Export)(nil)

// EachAuditEvent calls fn for the export's events in their order.
func (x *Export) EachAuditEvent(_ context.Context, fn func(*lanyard.AuditEvent) error) error {
	for _, e := range x.Events {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// AuditCheckpoints returns the export's checkpoints.
func (x *Export) AuditCheckpoints(context.Context) ([]*lanyard.AuditCheckpoint, error) {
	return x.Checkpoints, nil
}

// ReadCSV reads an export; a row that cannot be read is named by its line.
func ReadCSV(r io.Reader) (*Export, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(csvHeader)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read audit export: %w", err)
	}
	for i, h := range csvHeader {
		if head[i] != h {
			return nil, fmt.Errorf("read audit export: the first line must be %v", csvHeader)
		}
	}
	x := &Export{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return x, nil
		} else if err != nil {
			return nil, fmt.Errorf("read audit export: %w", err)
		}
		seq, err1 := strconv.ParseInt(rec[1], 10, 64)
		at, err2 := time.Parse(timeFormat, rec[2])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("read audit export: line %d: bad number or time", line)
		}
		switch rec[0] {
		case "event":
			x.Events = append(x.Events, &lanyard.AuditEvent{Seq: seq, Time: at.UTC(), Actor: rec[3], Addr: rec[4], Action: rec[5],
				Subject: rec[6], Detail: rec[7], PrevHash: rec[8], Hash: rec[9]})
		case "checkpoint":
			sig, err := base64.StdEncoding.DecodeString(rec[10])
			if err != nil {
				return nil, fmt.Errorf("read audit export: line %d: bad signature", line)
			}
			x.Checkpoints = append(x.Checkpoints, &lanyard.AuditCheckpoint{Seq: seq, Time: at.UTC(), Hash: rec[9], Signature: sig})
		default:
			return nil, fmt.Errorf("read audit export: line %d: kind %q is neither event nor checkpoint", line, rec[0])
		}
	}
}
