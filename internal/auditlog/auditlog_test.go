package auditlog_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/auditlog"
)

// chain makes n chained events.
func chain(n int) []*lanyard.AuditEvent {
	var events []*lanyard.AuditEvent
	prev := ""
	at := time.Date(2026, 5, 1, 8, 0, 0, 123456000, time.UTC)
	for i := 1; i <= n; i++ {
		e := &lanyard.AuditEvent{Seq: int64(i), PrevHash: prev, Time: at.Add(time.Duration(i) * time.Second),
			Actor: "root", Addr: "192.0.2.1", Action: "user.set_state", Subject: "user" + strconv.Itoa(i), Detail: "active -> inactive"}
		e.Hash = auditlog.Hash(prev, e)
		prev = e.Hash
		events = append(events, e)
	}
	return events
}

func verify(t *testing.T, key *ecdsa.PrivateKey, events []*lanyard.AuditEvent, cps ...*lanyard.AuditCheckpoint) auditlog.Result {
	t.Helper()
	v := auditlog.NewVerifier(key.Public(), cps)
	for _, e := range events {
		v.Add(e)
	}
	return v.Finish()
}

func TestVerifier(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	events := chain(10)
	cp, err := auditlog.Sign(key, 8, events[7].Hash, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res := verify(t, key, events, cp); !res.OK() || res.Events != 10 || res.Uncovered != 2 {
		t.Fatalf("untouched: %+v", res)
	}
	// Events not yet chained (number 0) are counted, after the chain.
	unchained := append(append([]*lanyard.AuditEvent{}, events...), &lanyard.AuditEvent{Action: "user.create"}, &lanyard.AuditEvent{Action: "user.update"})
	if res := verify(t, key, unchained, cp); !res.OK() || res.Events != 10 || res.Unchained != 2 ||
		!strings.HasSuffix(res.Line(), ", 2 not yet chained") {
		t.Fatalf("with 2 not yet chained: %+v, %q", res, res.Line())
	}
	// An event of the chain whose number is taken away is missing from it,
	// not waiting to be chained.
	unnumbered := chain(10)
	unnumbered[4].Seq = 0
	forged, _ := auditlog.Sign(other, 8, events[7].Hash, time.Now())
	swapped := append([]*lanyard.AuditEvent{}, events...)
	swapped[3], swapped[4] = swapped[4], swapped[3]
	renumbered := chain(10)
	renumbered[3].Seq, renumbered[4].Seq = 5, 4
	renumbered[3], renumbered[4] = renumbered[4], renumbered[3]
	rehashed := chain(10)
	rehashed[2].Detail = "rewritten"
	for i := 2; i < len(rehashed); i++ {
		rehashed[i].PrevHash = rehashed[i-1].Hash
		rehashed[i].Hash = auditlog.Hash(rehashed[i].PrevHash, rehashed[i])
	}
	edited := chain(10)
	edited[5].Time = edited[5].Time.Add(time.Microsecond)
	cases := []struct {
		name   string
		events []*lanyard.AuditEvent
		cps    []*lanyard.AuditCheckpoint
		bad    int64
		reason string
	}{
		{"edited", edited, []*lanyard.AuditCheckpoint{cp}, 6, "changed"},
		{"deleted", append(append([]*lanyard.AuditEvent{}, events[:4]...), events[5:]...), []*lanyard.AuditCheckpoint{cp}, 5, "missing"},
		{"swapped", swapped, []*lanyard.AuditCheckpoint{cp}, 4, "missing"},
		{"renumbered", renumbered, []*lanyard.AuditCheckpoint{cp}, 4, "does not follow"},
		{"rewritten and rehashed", rehashed, []*lanyard.AuditCheckpoint{cp}, 8, "differs from the signed checkpoint"},
		{"tail cut", events[:6], []*lanyard.AuditCheckpoint{cp}, 7, "a signed checkpoint covers the log up to event 8"},
		{"forged checkpoint", events, []*lanyard.AuditCheckpoint{forged}, 8, "not the audit key's"},
		{"unnumbered", unnumbered, []*lanyard.AuditCheckpoint{cp}, 5, "missing"},
		{"duplicated", append(append([]*lanyard.AuditEvent{}, events[:3]...), events[2:]...), nil, 3, "twice or out of order"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := verify(t, key, tc.events, tc.cps...)
			if res.Bad != tc.bad || !strings.Contains(res.Reason, tc.reason) {
				t.Fatalf("%+v; want event %d: …%s", res, tc.bad, tc.reason)
			}
			if !strings.HasPrefix(res.Line(), "audit: event "+strconv.FormatInt(tc.bad, 10)+": ") {
				t.Fatalf("line %q", res.Line())
			}
		})
	}
}

func TestCSVRoundTrip(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	events := chain(3)
	events[1].Detail = "a \"quoted\", multi-line\ndetail"
	events[1].Hash = auditlog.Hash(events[0].Hash, events[1])
	events[2].PrevHash = events[1].Hash
	events[2].Hash = auditlog.Hash(events[2].PrevHash, events[2])
	cp, _ := auditlog.Sign(key, 3, events[2].Hash, time.Now())
	var b strings.Builder
	w, _ := auditlog.NewCSVWriter(&b)
	w.Checkpoint(cp)
	for _, e := range events {
		w.Event(e)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	x, err := auditlog.ReadCSV(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if res := verify(t, key, x.Events, x.Checkpoints...); !res.OK() || res.Events != 3 || res.Uncovered != 0 {
		t.Fatalf("round trip: %+v", res)
	}
	if _, err := auditlog.ReadCSV(strings.NewReader("kind,seq\n")); err == nil {
		t.Fatal("a file that is no export was read")
	}
}
