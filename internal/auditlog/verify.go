package auditlog

import (
	"crypto"
	"fmt"

	"github.com/lanyard-id/lanyard"
)

// Result is what verification found.
type Result struct {
	// Events is how many events were checked.
	Events int64
	// Uncovered is how many events at the end no checkpoint covers yet:
	// they are chained, but nothing signed vouches for them.
	Uncovered int64
	// Unchained is how many events have no place in the chain yet: on
	// PostgreSQL, those that committed since the chaining last ran.
	Unchained int64
	// Bad is the number of the first event that fails, 0 when all pass;
	// Reason says why.
	Bad    int64
	Reason string
}

// OK reports whether every event passed.
func (r Result) OK() bool { return r.Bad == 0 }

// Line is the result as `lanyard audit verify` prints it.
func (r Result) Line() string {
	if !r.OK() {
		return fmt.Sprintf("audit: event %d: %s", r.Bad, r.Reason)
	}
	line := fmt.Sprintf("audit: %d events verified, %d not yet covered by a signed checkpoint", r.Events, r.Uncovered)
	if r.Unchained > 0 {
		line += fmt.Sprintf(", %d not yet chained", r.Unchained)
	}
	return line
}

// Verifier checks the chain event by event, in the order of their
// numbers, and the checkpoints against the events they name. Feed it every
// event with Add, then call Finish.
type Verifier struct {
	pub         crypto.PublicKey
	checkpoints map[int64]*lanyard.AuditCheckpoint
	lastCP      int64 // the number of the newest valid checkpoint
	prev        string
	next        int64 // the number the next event must have
	res         Result
}

// NewVerifier returns a verifier of a chain whose checkpoints were signed
// by the key pub.
func NewVerifier(pub crypto.PublicKey, checkpoints []*lanyard.AuditCheckpoint) *Verifier {
	v := &Verifier{pub: pub, checkpoints: map[int64]*lanyard.AuditCheckpoint{}, next: 1}
	for _, c := range checkpoints {
		if !checkSignature(pub, c) {
			// A checkpoint that is not the key's vouches for nothing,
			// and says that someone wrote one: it names its event.
			if v.res.OK() {
				v.fail(c.Seq, "its checkpoint's signature is not the audit key's")
			}
			continue
		}
		v.checkpoints[c.Seq] = c
		v.lastCP = max(v.lastCP, c.Seq)
	}
	return v
}

func (v *Verifier) fail(seq int64, reason string) {
	if v.res.OK() || seq < v.res.Bad {
		v.res.Bad, v.res.Reason = seq, reason
	}
}

// Add checks the next event. After the first failure the rest are not
// checked: the first bad event is the one to name. Events not yet chained
// (number 0) are counted, not checked: nothing vouches for them yet.
func (v *Verifier) Add(e *lanyard.AuditEvent) {
	if e.Seq == 0 {
		v.res.Unchained++
		return
	}
	if !v.res.OK() && v.res.Bad < v.next {
		return
	}
	switch {
	case e.Seq > v.next:
		v.fail(v.next, fmt.Sprintf("missing: the log goes on with event %d (deleted?)", e.Seq))
		return
	case e.Seq < v.next:
		v.fail(e.Seq, "appears twice or out of order")
		return
	case e.PrevHash != v.prev:
		v.fail(e.Seq, fmt.Sprintf("does not follow event %d (an event was deleted, inserted or moved)", e.Seq-1))
		return
	}
	if Hash(v.prev, e) != e.Hash {
		v.fail(e.Seq, "changed since it was written (its hash does not match its content)")
		return
	}
	if c, ok := v.checkpoints[e.Seq]; ok && c.Hash != e.Hash {
		v.fail(e.Seq, "differs from the signed checkpoint of its number")
		return
	}
	v.prev = e.Hash
	v.next++
	v.res.Events++
}

// Finish returns the result once every event was added.
func (v *Verifier) Finish() Result {
	last := v.next - 1
	if v.res.OK() && v.lastCP > last {
		v.fail(last+1, fmt.Sprintf("missing: a signed checkpoint covers the log up to event %d (deleted?)", v.lastCP))
	}
	if v.res.OK() {
		v.res.Uncovered = last - v.lastCP
	}
	return v.res
}
