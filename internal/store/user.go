package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/password"
)

var _ lanyard.UserService = (*UserService)(nil)

// UserService implements lanyard.UserService.
type UserService struct {
	db     *DB
	params password.Params
	// dummyHash is verified when a username is unknown, so that an unknown
	// user and a wrong password take about the same time.
	dummyHash string
}

// NewUserService returns a UserService hashing passwords with params.
func NewUserService(db *DB, params password.Params) *UserService {
	return &UserService{db: db, params: params, dummyHash: password.Hash(password.Generate(24), params)}
}

const userColumns = `id, username, email, common_name, attributes, state, roles, must_change_password, created_at, updated_at`

func scanUser(s scanner) (*lanyard.User, error) {
	var u lanyard.User
	dest, decode := userFields(&u)
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	return &u, decode()
}

// userFields returns what a row of userColumns scans into for u, and what
// then decodes it: for scanning a user together with other things.
func userFields(u *lanyard.User) ([]any, func() error) {
	var attrs, roles string
	var mustChange int
	var created, updated int64
	return []any{&u.ID, &u.Username, &u.Email, &u.CommonName, &attrs, &u.State, &roles, &mustChange, &created, &updated}, func() error {
		// Most users have no attributes, which every page's session
		// lookup would otherwise decode.
		if attrs == "{}" {
			u.Attributes = map[string]string{}
		} else if err := json.Unmarshal([]byte(attrs), &u.Attributes); err != nil {
			return fmt.Errorf("decode attributes of %s: %w", u.Username, err)
		}
		u.Roles = decodeRoles(roles)
		u.MustChangePassword = mustChange != 0
		u.CreatedAt, u.UpdatedAt = decodeTime(created), decodeTime(updated)
		return nil
	}
}

func encodeRoles(roles []lanyard.Role) string {
	s := make([]string, 0, len(roles))
	for _, r := range roles {
		if !slices.Contains(s, string(r)) {
			s = append(s, string(r))
		}
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}

func decodeRoles(s string) []lanyard.Role {
	var roles []lanyard.Role
	for _, r := range strings.Split(s, ",") {
		if r != "" {
			roles = append(roles, lanyard.Role(r))
		}
	}
	return roles
}

// normalize fills defaults: every user has the role "user" and attributes.
func normalize(u *lanyard.User) {
	u.Username = strings.ToLower(strings.TrimSpace(u.Username))
	u.Email = strings.TrimSpace(u.Email)
	u.CommonName = strings.TrimSpace(u.CommonName)
	if u.State == "" {
		u.State = lanyard.UserActive
	}
	if !slices.Contains(u.Roles, lanyard.RoleUser) {
		u.Roles = append(u.Roles, lanyard.RoleUser)
	}
	if u.Attributes == nil {
		u.Attributes = map[string]string{}
	}
}

// CreateUser creates u with the given password.
func (s *UserService) CreateUser(ctx context.Context, actor lanyard.Actor, u *lanyard.User, pw string) error {
	batch := []lanyard.NewUser{{User: *u, Password: pw}}
	if err := s.ImportUsers(ctx, actor, batch); err != nil {
		return err
	}
	*u = batch[0].User
	return nil
}

// ImportUsers creates every user or none: the first invalid or duplicate
// user aborts the whole transaction.
func (s *UserService) ImportUsers(ctx context.Context, actor lanyard.Actor, users []lanyard.NewUser) error {
	hashes := make([]string, len(users))
	for i := range users {
		u := &users[i].User
		normalize(u)
		if err := u.Validate(); err != nil {
			return err
		}
		switch {
		case users[i].PasswordHash != "":
			if err := password.Check(users[i].PasswordHash); err != nil {
				return lanyard.Errorf(lanyard.EINVALID, "The password hash of %s is not accepted: %v.", u.Username, err)
			}
			hashes[i] = users[i].PasswordHash
		case users[i].Password != "":
			if err := lanyard.ValidatePassword(users[i].Password); err != nil {
				return err
			}
			hashes[i] = password.Hash(users[i].Password, s.params)
		}
	}
	return s.db.inTx(ctx, func(tx *Tx) error {
		for i := range users {
			if err := tx.insertUser(ctx, actor, &users[i].User, hashes[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (tx *Tx) insertUser(ctx context.Context, actor lanyard.Actor, u *lanyard.User, hash string) error {
	attrs, _ := json.Marshal(u.Attributes)
	u.CreatedAt, u.UpdatedAt = tx.now, tx.now
	err := tx.queryRow(ctx, `INSERT INTO users (username, email, common_name, attributes, state, roles, password_hash, must_change_password, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Username, u.Email, u.CommonName, string(attrs), string(u.State), encodeRoles(u.Roles), hash,
		boolInt(u.MustChangePassword), encodeTime(tx.now), encodeTime(tx.now)).Scan(&u.ID)
	if isUniqueViolation(err) {
		return lanyard.Errorf(lanyard.ECONFLICT, "A user named %q exists already.", u.Username)
	} else if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return tx.insertAudit(ctx, actor, "user.create", u.Username,
		fmt.Sprintf("email=%s state=%s roles=%s", u.Email, u.State, encodeRoles(u.Roles)))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// FindUserByID returns the user with the given ID.
func (s *UserService) FindUserByID(ctx context.Context, id int64) (*lanyard.User, error) {
	return findUser(ctx, s.db, `id = ?`, id)
}

// FindUserByUsername returns the user with the given username.
func (s *UserService) FindUserByUsername(ctx context.Context, username string) (*lanyard.User, error) {
	return findUser(ctx, s.db, `username = ?`, strings.ToLower(strings.TrimSpace(username)))
}

func findUser(ctx context.Context, c conn, where string, arg any) (*lanyard.User, error) {
	if s, ok := arg.(string); ok && !lanyard.ValidText(s) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "No such user.")
	}
	u, err := scanUser(c.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, arg))
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "No such user.")
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// FindUsers lists users matching f, ordered by username.
func (s *UserService) FindUsers(ctx context.Context, f lanyard.UserFilter) ([]*lanyard.User, error) {
	if !lanyard.ValidText(f.Query) {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The search text must be valid text.")
	}
	q := `SELECT ` + userColumns + ` FROM users WHERE 1=1`
	var args []any
	if f.Query != "" {
		cond, condArgs, err := s.searchCondition(ctx, strings.ToLower(f.Query))
		if err != nil {
			return nil, fmt.Errorf("find users: %w", err)
		}
		q += cond
		args = append(args, condArgs...)
	}
	if f.State != "" {
		q += ` AND state = ?`
		args = append(args, string(f.State))
	}
	if f.Role != "" {
		q += ` AND ` + hasRole
		args = append(args, rolePattern(f.Role))
	}
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 10000
	}
	q += fmt.Sprintf(` ORDER BY username LIMIT %d`, f.Limit)
	users, err := queryAll(ctx, s.db, q, args, scanUser)
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	return users, nil
}

// hasRole is the condition that a user has a role, with rolePattern's
// argument: roles are kept joined with commas.
const hasRole = `(',' || roles || ',') LIKE ?`

func rolePattern(r lanyard.Role) string { return "%," + string(r) + ",%" }

// AnyUserHas reports whether any user has the role r. It reads the users
// in no order until it finds one, so that the first administrator, made
// before most users, is found at once among a million, whatever the
// names.
func (s *UserService) AnyUserHas(ctx context.Context, r lanyard.Role) (bool, error) {
	var found bool
	if err := s.db.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE `+hasRole+`)`, rolePattern(r)).Scan(&found); err != nil {
		return false, fmt.Errorf("find users with role %s: %w", r, err)
	}
	return found, nil
}

// searchCandidates is the most users the trigram index of the user
// search (migration 030) hands on to be checked. A text that more users
// may contain is common: reading the users in order of their usernames
// finds a page of them sooner than sorting all of them.
const searchCandidates = 2000

// containsPattern is the LIKE pattern, with ESCAPE '\\', of the values
// that contain text.
func containsPattern(text string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(text) + "%"
}

// searchSeparator joins the username, email and name in the trigram
// index of the user search (migration 030): a character no user's value
// holds, so that a text without it is found in the joined value exactly
// when one of the three holds it.
const searchSeparator = "\x01"

// searchCondition returns the condition of a user search for text
// (lowercase), with its arguments: the username, email or name contains
// it, through the trigram index where it helps.
//
// On PostgreSQL the index is of the three joined, and the condition is
// on that, so that the planner knows from the index's statistics how
// many users it keeps, and chooses between the index and reading the
// users in order of their usernames. On SQLite the index is asked first
// for the users that may match, and the search is narrowed to them, by
// their IDs, only when they are few (at most searchCandidates); it
// answers only for a text of three characters or more with no wildcard
// of LIKE in it.
func (s *UserService) searchCondition(ctx context.Context, text string) (string, []any, error) {
	like := containsPattern(text)
	if s.db.dialect == Postgres && !strings.Contains(text, searchSeparator) {
		return ` AND lower(username || chr(1) || email || chr(1) || common_name) LIKE ? ESCAPE '\'`, []any{like}, nil
	}
	cond := ` AND (LOWER(username) LIKE ? ESCAPE '\' OR LOWER(email) LIKE ? ESCAPE '\' OR LOWER(common_name) LIKE ? ESCAPE '\')`
	args := []any{like, like, like}
	if s.db.dialect == Postgres || utf8.RuneCountInString(text) < 3 || strings.ContainsAny(text, "%_") {
		return cond, args, nil
	}
	ids, err := queryAll(ctx, s.db, `SELECT rowid FROM users_search WHERE search_text LIKE ? LIMIT ?`,
		[]any{"%" + text + "%", searchCandidates + 1}, scanInt64)
	if err != nil || len(ids) > searchCandidates {
		return cond, args, err
	}
	// The IDs as one JSON array ("[]" for none), so that the statement's
	// text is the same for any number of them.
	list, err := json.Marshal(append([]int64{}, ids...))
	if err != nil {
		return "", nil, err
	}
	return cond + ` AND id IN (SELECT value FROM json_each(?))`, append(args, string(list)), nil
}
