// Package userimport reads users from CSV — the header
// username,email,common_name,state,roles,password — and imports them all or
// none, reporting every bad row by its line number. The lanyard command and
// Admin › Users share it.
package userimport

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lanyard-id/lanyard"
)

// Columns is the header a user CSV file must start with.
var Columns = []string{"username", "email", "common_name", "state", "roles", "password"}

// MaxRows bounds one import; larger files are split by the operator.
const MaxRows = 100000

// Import reads the CSV from r and creates every user in it, or none: the
// first problem, of any row or with the database, aborts the whole import
// with a message naming the lines. It returns how many users it created.
func Import(ctx context.Context, users lanyard.UserService, actor lanyard.Actor, r io.Reader) (int, error) {
	list, lines, err := parse(r)
	if err != nil {
		return 0, err
	}
	if err := users.ImportUsers(ctx, actor, list); err != nil {
		return 0, importError(list, lines, err)
	}
	return len(list), nil
}

// parseUserCSV reads and checks every row before anything is imported, and
// reports every bad row by its line number.
func parse(r io.Reader) ([]lanyard.NewUser, []int, error) {
	cr := csv.NewReader(io.LimitReader(r, 64<<20))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, lanyard.Errorf(lanyard.EINVALID, "line 1: cannot read the header: %v", csvReason(err))
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff")))
	}
	if strings.Join(header, ",") != strings.Join(Columns, ",") {
		return nil, nil, lanyard.Errorf(lanyard.EINVALID, "line 1: the header must be %s", strings.Join(Columns, ","))
	}
	var users []lanyard.NewUser
	var lines []int
	var problems []string
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, nil, fmt.Errorf("read CSV: %w", err)
			}
			problems = append(problems, fmt.Sprintf("line %d: %s", pe.StartLine, pe.Err))
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(users)+len(problems) >= MaxRows {
			problems = append(problems, fmt.Sprintf("line %d: more than %d rows; split the file", line, MaxRows))
			break
		}
		nu, err := userFromRecord(rec)
		if err == nil {
			if prev, dup := seen[nu.User.Username]; dup {
				err = fmt.Errorf("username %q also on line %d", nu.User.Username, prev)
			}
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %s", line, reason(err)))
			continue
		}
		seen[nu.User.Username] = line
		users = append(users, nu)
		lines = append(lines, line)
	}
	if len(problems) > 0 {
		if len(problems) > 20 {
			problems = append(problems[:20], fmt.Sprintf("and %d more", len(problems)-20))
		}
		return nil, nil, lanyard.Errorf(lanyard.EINVALID, "nothing imported: %s", strings.Join(problems, "; "))
	}
	if len(users) == 0 {
		return nil, nil, lanyard.Errorf(lanyard.EINVALID, "nothing imported: the file has no rows after the header")
	}
	return users, lines, nil
}

func userFromRecord(rec []string) (lanyard.NewUser, error) {
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
	if rec[5] != "" {
		if err := lanyard.ValidatePassword(rec[5]); err != nil {
			return lanyard.NewUser{}, err
		}
	}
	return lanyard.NewUser{User: u, Password: rec[5]}, nil
}

// importError names the row of a conflict found by the database.
func importError(users []lanyard.NewUser, lines []int, err error) error {
	if lanyard.ErrorCode(err) != lanyard.ECONFLICT {
		return err
	}
	for i, nu := range users {
		if strings.Contains(lanyard.ErrorMessage(err), fmt.Sprintf("%q", nu.User.Username)) {
			return lanyard.Errorf(lanyard.ECONFLICT, "nothing imported: line %d: %s", lines[i], lanyard.ErrorMessage(err))
		}
	}
	return lanyard.Errorf(lanyard.ECONFLICT, "nothing imported: %s", lanyard.ErrorMessage(err))
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
