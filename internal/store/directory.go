package store

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"

	"github.com/lanyard-id/lanyard"
)

var _ lanyard.DirectoryStore = (*DB)(nil)

// directoryBatch is how many entries one query looks up: memory stays
// bounded however large the directory is.
const directoryBatch = 500

// directoryUser is a user row as a sync compares it.
type directoryUser struct {
	lanyard.User
	dn          string
	deactivated bool // made inactive by the directory
}

// directorySync is the state of one sync inside its transaction.
type directorySync struct {
	tx    *Tx
	actor lanyard.Actor
	opts  lanyard.DirectorySyncOptions
	seen  int64 // the mark of every user this sync finds
	res   *lanyard.DirectoryResult
	// unchanged are the users of the current batch the sync found as they
	// were; one statement marks them seen.
	unchanged []any
}

// SyncDirectory implements lanyard.DirectoryStore. Users the search found
// are marked with the transaction's time; directory users left unmarked at
// the end have left the directory.
func (db *DB) SyncDirectory(ctx context.Context, actor lanyard.Actor, entries iter.Seq2[*lanyard.DirectoryEntry, error], opts lanyard.DirectorySyncOptions) (*lanyard.DirectoryResult, error) {
	tx, err := db.beginTx(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.rollback()
	s := &directorySync{tx: tx, actor: actor, opts: opts, seen: encodeTime(tx.now), res: &lanyard.DirectoryResult{}}
	// A sync may change any user it reads.
	tx.keptChanged = true
	var known int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE directory_dn <> ''`).Scan(&known); err != nil {
		return nil, fmt.Errorf("count directory users: %w", err)
	}
	batch := make([]*lanyard.DirectoryEntry, 0, directoryBatch)
	for e, err := range entries {
		if err != nil {
			return nil, err
		}
		s.res.Entries++
		if batch = append(batch, e); len(batch) == directoryBatch {
			if err := s.applyBatch(ctx, batch); err != nil {
				return nil, err
			}
			batch = batch[:0]
		}
	}
	if err := s.applyBatch(ctx, batch); err != nil {
		return nil, err
	}
	if err := s.deactivateGone(ctx); err != nil {
		return nil, err
	}
	if err := checkDeactivationLimit(s.res.Deactivated, known, opts.MaxDeactivatePercent); err != nil {
		return nil, err
	}
	if opts.DryRun {
		return s.res, nil // the deferred rollback undoes the run
	}
	if err := tx.insertAudit(ctx, actor, "directory.sync", "", s.res.Counts()+
		fmt.Sprintf(", %d conflicts, %d skipped", s.res.Conflicts, s.res.Skipped)); err != nil {
		return nil, err
	}
	if err := tx.commit(ctx); err != nil {
		return nil, err
	}
	return s.res, nil
}

// checkDeactivationLimit stops a sync that would deactivate more than
// percent of the known directory users; one deactivation is always
// allowed, so a small directory can lose a person.
func checkDeactivationLimit(k, known, percent int) error {
	allowed := known * percent / 100
	if allowed < 1 && percent > 0 {
		allowed = 1
	}
	if k > allowed {
		return lanyard.Errorf(lanyard.ECONFLICT, "stopped: would deactivate %d of %d users (limit %d%%)", k, known, percent)
	}
	return nil
}

func (s *directorySync) applyBatch(ctx context.Context, batch []*lanyard.DirectoryEntry) error {
	if len(batch) == 0 {
		return nil
	}
	names := make([]any, 0, len(batch))
	for _, e := range batch {
		e.Username = strings.ToLower(strings.TrimSpace(e.Username))
		names = append(names, e.Username)
	}
	q := `SELECT id, username, email, common_name, attributes, state, roles, directory_dn, directory_deactivated
		FROM users WHERE username IN (?` + strings.Repeat(", ?", len(names)-1) + `)`
	rows, err := queryAll(ctx, s.tx, q, names, scanDirectoryUser)
	if err != nil {
		return fmt.Errorf("find directory users: %w", err)
	}
	byName := make(map[string]*directoryUser, len(rows))
	for _, u := range rows {
		byName[u.Username] = u
	}
	s.unchanged = s.unchanged[:0]
	for _, e := range batch {
		if err := s.apply(ctx, e, byName[e.Username]); err != nil {
			return err
		}
		// A second entry with the same username is a conflict of its own.
		if _, ok := byName[e.Username]; !ok {
			byName[e.Username] = &directoryUser{User: lanyard.User{Username: e.Username}, dn: e.DN}
		}
	}
	if len(s.unchanged) == 0 {
		return nil
	}
	_, err = s.tx.exec(ctx, `UPDATE users SET directory_seen = ? WHERE id IN (?`+strings.Repeat(", ?", len(s.unchanged)-1)+`)`,
		append([]any{s.seen}, s.unchanged...)...)
	if err != nil {
		return fmt.Errorf("mark directory users seen: %w", err)
	}
	return nil
}

func scanDirectoryUser(sc scanner) (*directoryUser, error) {
	var u directoryUser
	var attrs, roles string
	var deactivated int
	if err := sc.Scan(&u.ID, &u.Username, &u.Email, &u.CommonName, &attrs, &u.State, &roles, &u.dn, &deactivated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(attrs), &u.Attributes); err != nil {
		return nil, fmt.Errorf("decode attributes of %s: %w", u.Username, err)
	}
	u.Roles = decodeRoles(roles)
	u.deactivated = deactivated != 0
	return &u, nil
}

// apply makes one user match entry e; u is the user of that name, or nil.
func (s *directorySync) apply(ctx context.Context, e *lanyard.DirectoryEntry, u *directoryUser) error {
	switch {
	case u == nil:
		return s.add(ctx, e)
	case u.ID == 0:
		s.res.Conflicts++
		s.res.Note(lanyard.DirectoryChange{Kind: lanyard.DirectoryConflict, Username: e.Username, Detail: "two entries have this username: " + u.dn + " and " + e.DN})
		return nil
	case u.dn == "":
		s.res.Conflicts++
		s.res.Note(lanyard.DirectoryChange{Kind: lanyard.DirectoryConflict, Username: e.Username, Detail: "a local user has this username; the entry " + e.DN + " is skipped"})
		return nil
	}
	return s.update(ctx, e, u)
}

func (s *directorySync) add(ctx context.Context, e *lanyard.DirectoryEntry) error {
	u := &lanyard.User{
		Username: e.Username, Email: e.Email, CommonName: e.CommonName, Attributes: e.Attributes,
		State: lanyard.UserActive, Roles: e.Roles,
	}
	if e.Disabled {
		u.State = lanyard.UserInactive
	}
	normalize(u)
	if err := u.Validate(); err != nil {
		s.res.Skipped++
		s.res.Note(lanyard.DirectoryChange{Kind: lanyard.DirectorySkipped, Username: e.Username, Detail: e.DN + ": " + lanyard.ErrorMessage(err)})
		return nil
	}
	if err := s.tx.insertUser(ctx, s.actor, u, ""); err != nil {
		return err
	}
	if _, err := s.tx.exec(ctx, `UPDATE users SET directory_dn = ?, directory_seen = ?, directory_deactivated = ? WHERE id = ?`,
		e.DN, s.seen, boolInt(e.Disabled), u.ID); err != nil {
		return fmt.Errorf("mark directory user: %w", err)
	}
	s.res.Added++
	s.res.Note(lanyard.DirectoryChange{Kind: lanyard.DirectoryAdded, Username: u.Username, Detail: fmt.Sprintf("%s, %s, roles %s", u.Email, u.CommonName, encodeRoles(u.Roles))})
	return nil
}

// update carries the entry's mapped attributes and roles to a directory
// user, and decides whether its state follows the directory.
func (s *directorySync) update(ctx context.Context, e *lanyard.DirectoryEntry, u *directoryUser) error {
	next := u.User
	next.Email, next.CommonName, next.Attributes = strings.TrimSpace(e.Email), strings.TrimSpace(e.CommonName), e.Attributes
	next.Roles = slices.DeleteFunc(slices.Clone(u.Roles), func(r lanyard.Role) bool { return slices.Contains(s.opts.ManagedRoles, r) })
	next.Roles = append(next.Roles, e.Roles...)
	normalize(&next)
	if err := next.Validate(); err != nil {
		// The user stays as it was, and is not taken for gone either.
		s.res.Skipped++
		s.res.Note(lanyard.DirectoryChange{Kind: lanyard.DirectorySkipped, Username: e.Username, Detail: e.DN + ": " + lanyard.ErrorMessage(err)})
		s.unchanged = append(s.unchanged, u.ID)
		return nil
	}
	var changed []string
	if next.Email != u.Email {
		changed = append(changed, "email "+u.Email+" -> "+next.Email)
	}
	if next.CommonName != u.CommonName {
		changed = append(changed, "common name "+u.CommonName+" -> "+next.CommonName)
	}
	if !maps.Equal(next.Attributes, u.Attributes) {
		changed = append(changed, "attributes")
	}
	if oldRoles, newRoles := encodeRoles(u.Roles), encodeRoles(next.Roles); oldRoles != newRoles {
		changed = append(changed, "roles "+oldRoles+" -> "+newRoles)
	}
	// The directory reactivates only users it deactivated itself; once
	// such a user is active again, whatever state is set by hand stands.
	deactivated := u.deactivated
	switch {
	case e.Disabled && (u.State == lanyard.UserActive || u.State == lanyard.UserRegistered):
		s.stateChange(u.Username, lanyard.UserInactive, lanyard.DirectoryDeactivated, "disabled in the directory")
		deactivated = true
	case !e.Disabled && u.deactivated && u.State == lanyard.UserInactive:
		s.stateChange(u.Username, lanyard.UserActive, lanyard.DirectoryReactivated, "back in the directory")
	case !e.Disabled && u.deactivated && u.State != lanyard.UserInactive:
		deactivated = false
	}
	attrs, _ := json.Marshal(next.Attributes)
	if len(changed) == 0 && e.DN == u.dn && deactivated == u.deactivated {
		s.unchanged = append(s.unchanged, u.ID)
		return nil
	}
	if len(changed) == 0 {
		_, err := s.tx.exec(ctx, `UPDATE users SET directory_dn = ?, directory_seen = ?, directory_deactivated = ? WHERE id = ?`,
			e.DN, s.seen, boolInt(deactivated), u.ID)
		return err
	}
	if _, err := s.tx.exec(ctx, `UPDATE users SET email = ?, common_name = ?, attributes = ?, roles = ?, updated_at = ?,
		directory_dn = ?, directory_seen = ?, directory_deactivated = ? WHERE id = ?`,
		next.Email, next.CommonName, string(attrs), encodeRoles(next.Roles), encodeTime(s.tx.now),
		e.DN, s.seen, boolInt(deactivated), u.ID); err != nil {
		return fmt.Errorf("update directory user: %w", err)
	}
	detail := strings.Join(changed, "; ")
	s.res.Updated++
	s.res.Note(lanyard.DirectoryChange{Kind: lanyard.DirectoryUpdated, Username: u.Username, Detail: detail})
	return s.tx.insertAudit(ctx, s.actor, "user.directory_update", u.Username, detail)
}

func (s *directorySync) stateChange(username string, state lanyard.UserState, kind, why string) {
	if kind == lanyard.DirectoryDeactivated {
		s.res.Deactivated++
	} else {
		s.res.Reactivated++
	}
	s.res.Note(lanyard.DirectoryChange{Kind: kind, Username: username, Detail: why})
	s.res.StateChanges = append(s.res.StateChanges, lanyard.DirectoryStateChange{Username: username, State: state})
}

// deactivateGone marks the directory users this sync did not find and who
// may still log in: they left the directory or its filter.
func (s *directorySync) deactivateGone(ctx context.Context) error {
	rows, err := s.tx.query(ctx, `SELECT username FROM users WHERE directory_dn <> '' AND directory_seen <> ? AND state IN (?, ?) ORDER BY username`,
		s.seen, string(lanyard.UserActive), string(lanyard.UserRegistered))
	if err != nil {
		return fmt.Errorf("find users gone from the directory: %w", err)
	}
	var gone []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		gone = append(gone, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, name := range gone {
		s.stateChange(name, lanyard.UserInactive, lanyard.DirectoryDeactivated, "gone from the directory")
	}
	if len(gone) > 0 {
		if _, err := s.tx.exec(ctx, `UPDATE users SET directory_deactivated = 1 WHERE directory_dn <> '' AND directory_seen <> ? AND state IN (?, ?)`,
			s.seen, string(lanyard.UserActive), string(lanyard.UserRegistered)); err != nil {
			return fmt.Errorf("mark users gone from the directory: %w", err)
		}
	}
	return nil
}
