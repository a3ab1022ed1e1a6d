package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lanyard-id/lanyard"
)

// importColumns is the header a user CSV file must start with.
var importColumns = []string{"username", "email", "common_name", "state", "roles", "password"}

// maxImportRows bounds one import; larger files are split by the operator.
const maxImportRows = 100000

func runUserImport(ctx context.Context, e env, args []string) error {
	const usage = "user import FILE.csv"
	return adminCommand(ctx, e, "user import", usage, args, 1, 1, nil, func(a *app, pos []string) error {
		f, err := os.Open(pos[0])
		if err != nil {
			return fmt.Errorf("open %s: %w", pos[0], err)
		}
		defer f.Close()
		users, lines, err := parseUserCSV(f)
		if err != nil {
			return err
		}
		if err := a.users.ImportUsers(ctx, lanyard.CLIActor, users); err != nil {
			return importError(users, lines, err)
		}
		fmt.Fprintf(e.stdout, "imported %d users\n", len(users))
		return nil
	})
}

// parseUserCSV reads and checks every row before anything is imported, and
// reports every bad row by its line number.
func parseUserCSV(r io.Reader) ([]lanyard.NewUser, []int, error) {
	cr := csv.NewReader(io.LimitReader(r, 64<<20))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, lanyard.Errorf(lanyard.EINVALID, "line 1: cannot read the header: %v", csvReason(err))
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff")))
	}
	if strings.Join(header, ",") != strings.Join(importColumns, ",") {
		return nil, nil, lanyard.Errorf(lanyard.EINVALID, "line 1: the header must be %s", strings.Join(importColumns, ","))
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
		if len(users)+len(problems) >= maxImportRows {
			problems = append(problems, fmt.Sprintf("line %d: more than %d rows; split the file", line, maxImportRows))
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
	if len(rec) != len(importColumns) {
		return lanyard.NewUser{}, fmt.Errorf("want %d fields, got %d", len(importColumns), len(rec))
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
