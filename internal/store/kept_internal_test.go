package store

import (
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/lru"
)

// TestKeptGenerations: what is kept serves only in the generation it was
// read in, while the watch is live and while it is fresh; a change known
// between the read and the keeping keeps nothing, so that a read which
// raced with a change never serves the row as it was before.
func TestKeptGenerations(t *testing.T) {
	now := time.Now()
	sess := &lanyard.Session{ID: 1, UserID: 7, ExpiresAt: now.Add(time.Hour), LastSeen: now}
	user := &lanyard.User{ID: 7, Username: "alice"}
	script := &lanyard.OptionScript{Process: "p", Version: 3}
	tests := []struct {
		name string
		// between runs between the read of the generation and the keeping,
		// after between the keeping and the lookup.
		between, after func(c *keptCache)
		at             time.Duration // the lookup's time after now
		serves         bool
	}{
		{"kept", nil, nil, 0, true},
		{"a change during the read", func(c *keptCache) { c.changed() }, nil, 0, false},
		{"a change after", nil, func(c *keptCache) { c.changed() }, 0, false},
		{"a gap in the watch", nil, func(c *keptCache) { c.watch.live.Store(false) }, 0, false},
		{"no longer fresh", nil, nil, keptFor, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &keptCache{watch: &changeWatch{}, sessions: lru.New[string, *keptSession](sessionsKept, nil)}
			c.watch.live.Store(true)
			gen, _ := c.generation()
			if tt.between != nil {
				tt.between(c)
			}
			c.keepSession("k", gen, sess, user)
			c.keepScript("p", gen, now, script)
			if tt.after != nil {
				tt.after(c)
			}
			_, _, gotSession := c.session("k", now.Add(tt.at), keptFor)
			_, gotScript := c.script("p", now.Add(tt.at))
			if gotSession != tt.serves || gotScript != tt.serves {
				t.Errorf("session served %t, script served %t; want %t", gotSession, gotScript, tt.serves)
			}
		})
	}
}
