package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"strings"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/password"
)

// importBatchRows is how many users one INSERT of an import creates: ten
// parameters each stay well below SQLite's 32,766 and PostgreSQL's 65,535
// parameters per statement, and a thousand rows per round trip make the
// statement's own cost small beside the rows'.
const importBatchRows = 1000

// HashPassword returns the argon2id hash of pw with the service's
// parameters.
func (s *UserService) HashPassword(pw string) string { return password.Hash(pw, s.params) }

// ImportUserStream creates every user src yields, or none, in one
// transaction. The users are inserted a thousand to a statement; a
// username that exists already does not abort the statement but is told
// to src, so that every such row can be named, and the import then
// creates nothing. Passwords come hashed (PasswordHash), so that the slow
// hashing is done before the transaction and not while it holds locks.
// One audit event records the import with its count and a digest of the
// users created (see writeDigest), where an event per user would grow the
// audit log by as many events as users.
func (s *UserService) ImportUserStream(ctx context.Context, actor lanyard.Actor, src lanyard.UserStream) (int, error) {
	n := 0
	err := s.db.inSoloTx(ctx, func(tx *Tx) error {
		ins := &userInserter{tx: tx}
		defer ins.close()
		digest := sha256.New()
		taken := 0
		for {
			batch, err := src.Next()
			if errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return err
			}
			for start := 0; start < len(batch); start += importBatchRows {
				part := batch[start:min(start+importBatchRows, len(batch))]
				created, err := ins.insert(ctx, part)
				if err != nil {
					return err
				}
				for i, ok := range created {
					if !ok {
						src.Taken(start + i)
						taken++
						continue
					}
					if taken == 0 {
						writeDigest(digest, &part[i].User)
					}
					n++
				}
			}
		}
		if err := src.Done(); err != nil {
			return err
		}
		if taken > 0 {
			return lanyard.Errorf(lanyard.ECONFLICT, "Nothing imported: %d usernames exist already.", taken)
		}
		if n == 0 {
			return nil
		}
		return tx.insertAudit(ctx, actor, "user.import", fmt.Sprintf("%d users", n),
			fmt.Sprintf("imported %d users, sha256 of username, email, common name, state, roles: %s", n, hex.EncodeToString(digest.Sum(nil))))
	})
	if err != nil {
		return 0, err
	}
	s.db.analyzeUsers(ctx, n)
	return n, nil
}

// analyzeUsers has PostgreSQL gather the statistics of the users anew
// after an import of many (n), as it would only some time later: until
// then the planner takes a text every user contains for a rare one, and
// sorts them all for a user search (migration 030). The import has
// committed, so a failure is only logged.
func (db *DB) analyzeUsers(ctx context.Context, n int) {
	if db.dialect != Postgres || n < analyzeAfterImport {
		return
	}
	if _, err := db.exec(ctx, `ANALYZE users`); err != nil {
		slog.Warn("gather the statistics of the users after an import", "err", err)
	}
}

// analyzeAfterImport is the least number of users an import creates for
// analyzeUsers to run.
const analyzeAfterImport = 1000

// userInserter inserts the users of an import, with the statement for a
// whole batch prepared once: on SQLite, preparing the statement of a
// thousand rows took a tenth of an import's time.
type userInserter struct {
	tx   *Tx
	full *sql.Stmt
}

func (ins *userInserter) close() {
	if ins.full != nil {
		ins.full.Close()
	}
}

// insert inserts users with one statement and reports which were created:
// a user whose username is taken is skipped, not an error.
func (ins *userInserter) insert(ctx context.Context, users []lanyard.NewUser) ([]bool, error) {
	tx := ins.tx
	cols := make([][]string, 7) // username, email, common_name, attributes, state, roles, password_hash
	must := make([]int64, len(users))
	for i := range users {
		u := &users[i].User
		normalize(u)
		if err := u.Validate(); err != nil {
			return nil, lanyard.Errorf(lanyard.EINVALID, "%s: %s", u.Username, lanyard.ErrorMessage(err))
		}
		if users[i].Password != "" {
			return nil, fmt.Errorf("import %s: the password is not hashed", u.Username)
		}
		if h := users[i].PasswordHash; h != "" {
			if err := password.Check(h); err != nil {
				return nil, lanyard.Errorf(lanyard.EINVALID, "%s: %v", u.Username, err)
			}
		}
		attrs, err := json.Marshal(u.Attributes)
		if err != nil {
			return nil, fmt.Errorf("encode attributes of %s: %w", u.Username, err)
		}
		u.CreatedAt, u.UpdatedAt = tx.now, tx.now
		for c, v := range []string{u.Username, u.Email, u.CommonName, string(attrs), string(u.State), encodeRoles(u.Roles), users[i].PasswordHash} {
			cols[c] = append(cols[c], v)
		}
		must[i] = int64(boolInt(u.MustChangePassword))
	}
	q, args := insertUsersSQL(tx.db.dialect, len(users)), insertUsersArgs(tx.db.dialect, cols, must, encodeTime(tx.now))
	var rows rows
	var err error
	if len(users) == importBatchRows && tx.pg == nil {
		if ins.full == nil {
			if ins.full, err = tx.tx.PrepareContext(ctx, tx.db.rebind(q)); err != nil {
				return nil, fmt.Errorf("prepare the insert of users: %w", err)
			}
		}
		tx.beforeStatement(q)
		rows, err = ins.full.QueryContext(ctx, args...)
	} else {
		rows, err = tx.query(ctx, q, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("insert users: %w", err)
	}
	defer rows.Close()
	ids := make(map[string]int64, len(users))
	for rows.Next() {
		var id int64
		var username string
		if err := rows.Scan(&id, &username); err != nil {
			return nil, fmt.Errorf("insert users: %w", err)
		}
		ids[username] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert users: %w", err)
	}
	// A username twice in the batch is created once, for its first row.
	created := make([]bool, len(users))
	for i := range users {
		u := &users[i].User
		if u.ID, created[i] = ids[u.Username]; created[i] {
			delete(ids, u.Username)
		}
	}
	return created, nil
}

const insertUsersHead = `INSERT INTO users (username, email, common_name, attributes, state, roles, password_hash, must_change_password, created_at, updated_at) `

// insertUsersSQL is the statement inserting n users. PostgreSQL takes
// each column as one array, which it unnests into rows: nine parameters
// whatever n, where a row of parameters per user costs it more to parse
// and plan than to insert. SQLite has no arrays, and parses a multi-row
// VALUES cheaply.
func insertUsersSQL(d Dialect, n int) string {
	const tail = ` ON CONFLICT (username) DO NOTHING RETURNING id, username`
	if d == Postgres {
		return insertUsersHead + `SELECT u, e, c, a, s, r, h, m, ?::bigint, ?::bigint FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[]) AS t(u, e, c, a, s, r, h, m)` + tail
	}
	var q strings.Builder
	q.Grow(len(insertUsersHead) + 32*n + len(tail))
	q.WriteString(insertUsersHead + `VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	}
	q.WriteString(tail)
	return q.String()
}

func insertUsersArgs(d Dialect, cols [][]string, must []int64, now int64) []any {
	if d == Postgres {
		args := []any{now, now}
		for _, c := range cols {
			args = append(args, c)
		}
		return append(args, must)
	}
	args := make([]any, 0, 10*len(must))
	for i := range must {
		for _, c := range cols {
			args = append(args, c[i])
		}
		args = append(args, must[i], now, now)
	}
	return args
}

// writeDigest adds a user to an import's digest: its username, email,
// common name, state and roles (sorted, comma-separated), separated by
// tabs, which none of them may contain, and ended by a newline. The
// digest of an import can so be computed again from the users it names.
func writeDigest(h hash.Hash, u *lanyard.User) {
	io.WriteString(h, u.Username+"\t"+u.Email+"\t"+u.CommonName+"\t"+string(u.State)+"\t"+encodeRoles(u.Roles)+"\n")
}
