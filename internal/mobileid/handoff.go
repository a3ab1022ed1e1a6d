package mobileid

import (
	"sync"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/lru"
	"github.com/lanyard-id/lanyard/internal/options"
)

// newCode makes a fresh activation code for the process e of u: its hash
// with the mobile ID to register when e has none (m nil), and, for a code
// by email, its mail. It returns the enrollment link too, to show.
func (s *Service) newCode(u *lanyard.User, e *lanyard.Enrollment, o options.MobileID, m *lanyard.MobileID) (*lanyard.ActivationCode, string, error) {
	ttl := s.ScreenCodeTTL
	if e.ByEmail {
		ttl = s.EmailCodeTTL
	}
	if m == nil {
		m = &lanyard.MobileID{
			PublicID: newPublicID(), UserID: u.ID, State: lanyard.MobileIDRegistered, Process: e.Process,
			ProfileName: o.ProfileName, ServerName: o.ServerName, ProfileUser: o.UserID,
		}
	}
	code := newSecret()
	ac := &lanyard.ActivationCode{Hash: HashCode(code), ExpiresAt: s.now().Add(ttl), MobileID: m}
	link := appclient.EnrollmentLink(s.BaseURL, code)
	if e.ByEmail {
		mail, err := codeMail(u, link, ac.ExpiresAt)
		if err != nil {
			return nil, "", err
		}
		ac.Mails = append(ac.Mails, mail)
	}
	return ac, link, nil
}

// The code of a process opened at the activation step is issued in the
// transaction that opens it, and the activation page that the browser is
// sent to next shows it: the link waits here, in this instance's memory
// and for moments only, since the database keeps nothing but the code's
// hash. A page that finds no link (a reload, which is to void the code it
// showed; another instance; a restart) issues a fresh code, as it would
// anyway.

// handoffTTL is how long a link waits for its page.
const handoffTTL = 30 * time.Second

// maxHandoffs bounds the links waiting, whatever the load.
const maxHandoffs = 10_000

type handoff struct {
	userID  int64
	link    string
	expires time.Time // the code's
	until   time.Time // the link's wait
	mobile  *lanyard.MobileID
}

// handoffs are the links waiting for their activation page, by process,
// the oldest forgotten first when too many wait.
type handoffs struct {
	once  sync.Once
	links *lru.Cache[string, handoff]
}

func (h *handoffs) cache() *lru.Cache[string, handoff] {
	h.once.Do(func() { h.links = lru.New[string, handoff](maxHandoffs, nil) })
	return h.links
}

// put keeps the link of process for its page.
func (h *handoffs) put(process string, v handoff) { h.cache().Put(process, v) }

// take returns, once, the link waiting for the page of process of the
// user userID at now.
func (h *handoffs) take(process string, userID int64, now time.Time) (handoff, bool) {
	v, ok := h.cache().Get(process)
	if !ok || v.userID != userID {
		return handoff{}, false
	}
	if v, ok = h.cache().Take(process); !ok {
		return handoff{}, false // taken meanwhile
	}
	return v, now.Before(v.until) && now.Before(v.expires)
}
