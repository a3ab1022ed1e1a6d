package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/password"
)

// SetUserState changes a user's state and carries it to the user's mobile
// IDs in the same transaction: deactivating makes them inactive with their
// certificates on hold, reactivating makes them active again and releases
// them, locking locks them and revokes their certificates. A user who is no
// longer active loses every login session at once.
func (s *UserService) SetUserState(ctx context.Context, actor lanyard.Actor, username string, state lanyard.UserState) (*lanyard.User, error) {
	if !state.Valid() {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The state %q is not one of registered, active, inactive, locked.", state)
	}
	var u *lanyard.User
	err := s.db.inTx(ctx, func(tx *Tx) error {
		var err error
		if u, err = findUser(ctx, tx, `username = ?`, strings.ToLower(username)); err != nil {
			return err
		}
		if u.State == state {
			return nil
		}
		old := u.State
		u.State, u.UpdatedAt = state, tx.now
		tx.keptChanged = true
		if _, err := tx.exec(ctx, `UPDATE users SET state = ?, updated_at = ? WHERE id = ?`, string(state), encodeTime(tx.now), u.ID); err != nil {
			return fmt.Errorf("update user state: %w", err)
		}
		if state != lanyard.UserActive {
			if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.ID); err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
		}
		if err := tx.insertAudit(ctx, actor, "user.set_state", u.Username, fmt.Sprintf("%s -> %s", old, state)); err != nil {
			return err
		}
		_, err = tx.mobileIDsFollow(ctx, actor, u.ID, state)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// SetUserRoles replaces a user's roles; the role "user" is always kept.
func (s *UserService) SetUserRoles(ctx context.Context, actor lanyard.Actor, username string, roles []lanyard.Role) (*lanyard.User, error) {
	for _, r := range roles {
		if !r.Valid() {
			return nil, lanyard.Errorf(lanyard.EINVALID, "The role %q is not one of user, operator, admin.", r)
		}
	}
	var u *lanyard.User
	err := s.db.inTx(ctx, func(tx *Tx) error {
		var err error
		if u, err = findUser(ctx, tx, `username = ?`, strings.ToLower(username)); err != nil {
			return err
		}
		old, enc := encodeRoles(u.Roles), encodeRoles(append(slices.Clone(roles), lanyard.RoleUser))
		u.Roles = decodeRoles(enc)
		tx.keptChanged = true
		if _, err := tx.exec(ctx, `UPDATE users SET roles = ?, updated_at = ? WHERE id = ?`, enc, encodeTime(tx.now), u.ID); err != nil {
			return fmt.Errorf("update user roles: %w", err)
		}
		return tx.insertAudit(ctx, actor, "user.set_roles", u.Username, fmt.Sprintf("%s -> %s", old, enc))
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// SetPassword sets a user's password and ends the user's sessions, in one
// transaction. mustChange marks it one-time: the user must choose a new one
// at the next login.
func (s *UserService) SetPassword(ctx context.Context, actor lanyard.Actor, username, pw string, mustChange bool) error {
	if err := lanyard.ValidatePassword(pw); err != nil {
		return err
	}
	hash := password.Hash(pw, s.params)
	return s.db.inTx(ctx, func(tx *Tx) error {
		u, err := findUser(ctx, tx, `username = ?`, strings.ToLower(username))
		if err != nil {
			return err
		}
		tx.keptChanged = true
		if _, err := tx.exec(ctx, `UPDATE users SET password_hash = ?, must_change_password = ?, updated_at = ? WHERE id = ?`,
			hash, boolInt(mustChange), encodeTime(tx.now), u.ID); err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		// Whoever held a session needs the new password.
		if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.ID); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return tx.insertAudit(ctx, actor, "user.set_password", u.Username, fmt.Sprintf("one-time=%t", mustChange))
	})
}

// Authenticate checks a username and password.
func (s *UserService) Authenticate(ctx context.Context, username, pw string) (*lanyard.User, error) {
	wrong := lanyard.Errorf(lanyard.EUNAUTHORIZED, "The username or password is wrong.")
	username = strings.ToLower(strings.TrimSpace(username))
	var hash string
	var id int64
	if !lanyard.ValidText(username) {
		password.Verify(pw, s.dummyHash)
		return nil, wrong
	}
	err := s.db.queryRow(ctx, `SELECT id, password_hash FROM users WHERE username = ?`, username).Scan(&id, &hash)
	if errNoRows(err) || (err == nil && hash == "") {
		password.Verify(pw, s.dummyHash)
		return nil, wrong
	} else if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	ok, err := password.Verify(pw, hash)
	if err != nil {
		return nil, fmt.Errorf("authenticate %s: %w", username, err)
	} else if !ok {
		return nil, wrong
	}
	u, err := s.FindUserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.State != lanyard.UserActive {
		return u, lanyard.Errorf(lanyard.EUSERSTATE, "%s", stateRefusal(u.State))
	}
	if password.NeedsRehash(hash, s.params) {
		if err := s.rehash(ctx, u, hash, pw); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// rehash replaces a hash that verified but is not the current argon2id,
// such as a bcrypt hash taken over by an import, with a fresh one of the
// same password: at a login is the only time the password is known. A
// password changed meanwhile is left alone.
func (s *UserService) rehash(ctx context.Context, u *lanyard.User, old, pw string) error {
	fresh := password.Hash(pw, s.params)
	return s.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?`, fresh, u.ID, old)
		if err != nil {
			return fmt.Errorf("rehash the password of %s: %w", u.Username, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return tx.insertAudit(ctx, lanyard.SystemActor, "user.password_rehash", u.Username, "to "+hashKind(fresh)+" from "+hashKind(old))
	})
}

// hashKind names a hash's algorithm and parameters, which are no secret.
func hashKind(h string) string {
	if strings.HasPrefix(h, "$argon2id$") {
		if parts := strings.Split(h, "$"); len(parts) == 6 {
			return "argon2id " + parts[3]
		}
	}
	if len(h) > 7 && strings.HasPrefix(h, "$2") {
		return "bcrypt cost " + h[4:6]
	}
	return "an unknown hash"
}

// stateRefusal tells a user whose password was right why they may not log in.
func stateRefusal(s lanyard.UserState) string {
	switch s {
	case lanyard.UserRegistered:
		return "Your account is registered but not yet active. Ask your administrator to activate it."
	case lanyard.UserInactive:
		return "Your account is inactive. Ask your administrator to reactivate it."
	case lanyard.UserLocked:
		return "Your account is locked. Ask your administrator for help."
	}
	return "Your account may not log in."
}

// mobileIDsFollow carries a user's new state to the user's live mobile IDs
// and returns how many it changed.
func (tx *Tx) mobileIDsFollow(ctx context.Context, actor lanyard.Actor, userID int64, state lanyard.UserState) (int, error) {
	ms, err := queryAll(ctx, tx, `SELECT `+mobileIDColumns+` FROM mobile_ids WHERE user_id = ? AND state IN (?, ?, ?) ORDER BY id`,
		[]any{userID, string(lanyard.MobileIDRegistered), string(lanyard.MobileIDActive), string(lanyard.MobileIDInactive)}, scanMobileID)
	if err != nil {
		return 0, fmt.Errorf("find mobile IDs: %w", err)
	}
	why := "the user is " + string(state)
	n := 0
	for _, m := range ms {
		var next lanyard.MobileIDState
		switch {
		case state == lanyard.UserLocked:
			next = lanyard.MobileIDLocked
		case state == lanyard.UserActive && m.State == lanyard.MobileIDInactive:
			next = lanyard.MobileIDActive
		case state != lanyard.UserActive && m.State == lanyard.MobileIDActive:
			next = lanyard.MobileIDInactive
		default:
			continue
		}
		if _, err := tx.setMobileIDState(ctx, actor, m.ID, next, why); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
