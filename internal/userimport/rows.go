package userimport

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/password"
)

// row is one user of the file with the line it starts on. Its password is
// in NewUser.Password while it waits to be hashed, in PasswordHash once
// hashed or when the file gave a hash.
type row struct {
	line int
	nu   lanyard.NewUser
}

// rowReader reads the rows of a user CSV file one at a time.
type rowReader struct {
	cr   *csv.Reader
	rows int
}

// newRowReader reads and checks the header.
func newRowReader(r io.Reader) (*rowReader, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, lanyard.Errorf(lanyard.EINVALID, "nothing imported: line 1: cannot read the header: %v", csvReason(err))
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff")))
	}
	if strings.Join(header, ",") != strings.Join(Columns, ",") {
		return nil, lanyard.Errorf(lanyard.EINVALID, "nothing imported: line 1: the header must be %s", strings.Join(Columns, ","))
	}
	return &rowReader{cr: cr}, nil
}

// next returns the next row, or the problem of a bad row as a message
// starting with its line number (in row.line), or io.EOF after the last
// row. Other errors are the reader's.
func (rr *rowReader) next() (row, string, error) {
	rec, err := rr.cr.Read()
	if errors.Is(err, io.EOF) {
		return row{}, "", io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return row{}, "", fmt.Errorf("read CSV: %w", err)
		}
		return row{line: pe.StartLine}, fmt.Sprintf("line %d: %s", pe.StartLine, pe.Err), nil
	}
	line, _ := rr.cr.FieldPos(0)
	if rr.rows++; rr.rows > MaxRows {
		return row{line: line}, fmt.Sprintf("line %d: more than %d rows; split the file", line, MaxRows), io.EOF
	}
	nu, err := userFromRecord(rec)
	if err != nil {
		return row{line: line}, fmt.Sprintf("line %d: %s", line, reason(err)), nil
	}
	return row{line: line, nu: nu}, "", nil
}

func userFromRecord(rec []string) (lanyard.NewUser, error) {
	// An argon2id hash in PHC form has commas of its own; unquoted, it
	// spreads over the last fields, and is taken whole again.
	if n := len(Columns); len(rec) > n && password.LooksLikeHash(rec[n-1]) {
		rec = append(rec[:n-1], strings.Join(rec[n-1:], ","))
	}
	if len(rec) != len(Columns) {
		return lanyard.NewUser{}, fmt.Errorf("want %d fields, got %d", len(Columns), len(rec))
	}
	u := lanyard.User{
		Username: strings.ToLower(strings.TrimSpace(rec[0])), Email: strings.TrimSpace(rec[1]),
		CommonName: strings.TrimSpace(rec[2]), State: lanyard.UserState(strings.TrimSpace(rec[3])),
	}
	if u.State == "" {
		u.State = lanyard.UserActive
	}
	for _, r := range strings.FieldsFunc(rec[4], func(c rune) bool { return c == ';' || c == ' ' || c == '|' }) {
		u.Roles = append(u.Roles, lanyard.Role(r))
	}
	if len(u.Roles) == 0 {
		u.Roles = []lanyard.Role{lanyard.RoleUser}
	}
	if err := u.Validate(); err != nil {
		return lanyard.NewUser{}, err
	}
	nu := lanyard.NewUser{User: u}
	switch pw := rec[5]; {
	case pw == "":
	case password.LooksLikeHash(pw):
		if err := password.Check(pw); err != nil {
			return lanyard.NewUser{}, fmt.Errorf("the password column holds a hash that is not accepted: %v", err)
		}
		nu.PasswordHash = pw
	default:
		if err := lanyard.ValidatePassword(pw); err != nil {
			return lanyard.NewUser{}, err
		}
		nu.Password = pw
	}
	return nu, nil
}

// problems collects the bad rows of a file: the first maxProblems by line
// in full, then how many more.
type problems struct {
	list []problem
	more int
}

type problem struct {
	line int
	msg  string
}

// maxProblems bounds the problems an import names.
const maxProblems = 20

// add records the problem of a line; msg starts with the line number.
func (p *problems) add(line int, msg string) {
	i, _ := slices.BinarySearchFunc(p.list, line, func(q problem, line int) int { return cmp.Compare(q.line, line+1) })
	p.list = slices.Insert(p.list, i, problem{line, msg})
	if len(p.list) > maxProblems {
		p.list = p.list[:maxProblems]
		p.more++
	}
}

func (p *problems) count() int { return len(p.list) + p.more }

// err is the error naming every problem, or nil.
func (p *problems) err(code string) error {
	if p.count() == 0 {
		return nil
	}
	msgs := make([]string, len(p.list))
	for i, q := range p.list {
		msgs[i] = q.msg
	}
	msg := strings.Join(msgs, "; ")
	if p.more > 0 {
		msg += fmt.Sprintf("; and %d more", p.more)
	}
	return lanyard.Errorf(code, "nothing imported: %s", msg)
}

func reason(err error) string {
	if m := lanyard.ErrorMessage(err); lanyard.ErrorCode(err) != lanyard.EINTERNAL {
		return strings.TrimSuffix(m, ".")
	}
	return err.Error()
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	if errors.Is(err, io.EOF) {
		return "the file is empty"
	}
	return err.Error()
}
