package directory

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-ldap/ldap/v3"
	"github.com/lanyard-id/lanyard"
)

// Users is the user service with directory logins: a directory user's
// password is checked by binding to the directory as that user, and is
// never stored; local users log in as before.
type Users struct {
	lanyard.UserService
	Store lanyard.DirectoryStore
	Dir   *Directory
}

var _ lanyard.UserService = (*Users)(nil)

// Authenticate implements lanyard.UserService.
func (u *Users) Authenticate(ctx context.Context, username, password string) (*lanyard.User, error) {
	_, isDirectory, err := u.Store.DirectoryDN(ctx, username)
	if err != nil {
		return nil, err
	}
	if !isDirectory {
		return u.UserService.Authenticate(ctx, username, password)
	}
	wrong := lanyard.Errorf(lanyard.EUNAUTHORIZED, "The username or password is wrong.")
	if password == "" || len(password) > lanyard.MaxPasswordLen {
		return nil, wrong
	}
	switch err := u.Dir.Bind(ctx, username, password); {
	case errors.Is(err, errWrongPassword):
		return nil, wrong
	case err != nil:
		return nil, lanyard.Errorf(lanyard.EUNAUTHORIZED, "The directory cannot check your password at the moment. Please try again later.")
	}
	user, err := u.FindUserByUsername(ctx, username)
	if err != nil {
		return nil, err
	}
	if user.State != lanyard.UserActive {
		return user, lanyard.Errorf(lanyard.EUSERSTATE, "Your account is %s. Ask your administrator for help.", user.State)
	}
	return user, nil
}

var errWrongPassword = errors.New("wrong username or password")

// Bind checks a user's password: it finds the user's entry with the
// service account and binds as it. A user outside the filter, disabled, or
// not found, and a wrong password, are all errWrongPassword.
func (d *Directory) Bind(ctx context.Context, username, password string) error {
	if password == "" {
		return errWrongPassword // an empty password would be an anonymous bind
	}
	c, err := d.pool.get()
	if err != nil {
		return err
	}
	healthy := false
	defer func() { d.pool.put(c, healthy && ctx.Err() == nil) }()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := d.pool.bindService(c); err != nil {
		return err
	}
	res, err := c.Search(ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false,
		d.cfg.userFilter(username), d.cfg.attributes(), nil))
	if err != nil {
		return fmt.Errorf("find %s: %w", username, unreachable(err))
	}
	healthy = true
	if len(res.Entries) != 1 || d.cfg.mapEntry(res.Entries[0]).Disabled {
		return errWrongPassword
	}
	if err := c.Bind(res.Entries[0].DN, password); ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		return errWrongPassword
	} else if err != nil {
		healthy = false
		return fmt.Errorf("bind as %s: %w", username, unreachable(err))
	}
	return nil
}
