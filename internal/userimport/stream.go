package userimport

import (
	"errors"
	"fmt"
	"io"

	"github.com/lanyard-id/lanyard"
)

// rowSource yields checked rows: the file read again, or the spool of
// hashed rows.
type rowSource interface {
	next() (row, string, error)
}

// streamBatch is how many users the stream hands the store at a time.
const streamBatch = 1000

// stream feeds the rows of a source to the store and names the lines of
// the users the store found taken.
type stream struct {
	src   rowSource
	lines []int
	batch []lanyard.NewUser
	probs problems
	// invalid is set by a bad row, as opposed to a username taken.
	invalid bool
}

var _ lanyard.UserStream = (*stream)(nil)

func newStream(src rowSource) *stream {
	return &stream{src: src, lines: make([]int, 0, streamBatch), batch: make([]lanyard.NewUser, 0, streamBatch)}
}

// Next returns the next thousand users. A row found bad now, though the
// check passed, means the file changed in between; it is reported as any
// bad row.
func (s *stream) Next() ([]lanyard.NewUser, error) {
	s.lines, s.batch = s.lines[:0], s.batch[:0]
	for len(s.batch) < streamBatch {
		r, problem, err := s.src.next()
		if problem != "" {
			s.probs.add(r.line, problem)
			s.invalid = true
		}
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		} else if problem != "" {
			continue
		}
		if r.nu.Password != "" {
			return nil, lanyard.Errorf(lanyard.EINVALID, "nothing imported: line %d: the file changed while it was imported", r.line)
		}
		s.lines = append(s.lines, r.line)
		s.batch = append(s.batch, r.nu)
	}
	if len(s.batch) == 0 {
		return nil, io.EOF
	}
	return s.batch, nil
}

// Taken names the line of a user whose username exists already.
func (s *stream) Taken(i int) {
	s.probs.add(s.lines[i], fmt.Sprintf("line %d: A user named %q exists already", s.lines[i], s.batch[i].User.Username))
}

// Done reports the rows found bad or taken.
func (s *stream) Done() error {
	if s.probs.count() == 0 {
		return nil
	}
	if s.invalid {
		return s.probs.err(lanyard.EINVALID)
	}
	return s.probs.err(lanyard.ECONFLICT)
}
