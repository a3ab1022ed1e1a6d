package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/lanyard-id/lanyard"
)

func runUser(ctx context.Context, e env, args []string) error {
	return runSubcommand(ctx, e, "user", args, map[string]func(context.Context, env, []string) error{
		"add": runUserAdd, "import": runUserImport, "list": runUserList,
		"set-state": runUserSetState, "set-role": runUserSetRole, "set-password": runUserSetPassword,
	})
}

// adminCommand loads the configuration of an administration command, opens
// the database and runs fn with it.
func adminCommand(ctx context.Context, e env, name, usage string, args []string, min, max int, setup func(fs flagSet), fn func(a *app, pos []string) error) error {
	cfg, pos, err := loadConfigWith(e, name, usage, args, setup)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, min, max, usage); err != nil {
		return err
	}
	a, err := openApp(ctx, e, cfg, discardUnlessDebug(cfg, e))
	if err != nil {
		return err
	}
	defer a.Close()
	if err := fn(a, pos); err != nil {
		return err
	}
	// The command's audit events are committed; on PostgreSQL, a server
	// would chain them within a second, and this does without one.
	if _, err := a.db.ChainAudit(ctx); err != nil {
		a.logger.Warn("chain the audit log", "err", err)
	}
	return nil
}

func runUserAdd(ctx context.Context, e env, args []string) error {
	const usage = `user add USERNAME --email E --name "COMMON NAME" [--state active] [--role user]... --password-file F`
	var email, name, state, pwFile string
	var roles multiFlag
	var attrs multiFlag
	setup := func(fs flagSet) {
		fs.StringVar(&email, "email", "", "email address (required)")
		fs.StringVar(&name, "name", "", "common name, as in certificates (required)")
		fs.StringVar(&state, "state", "active", "state: registered, active, inactive or locked")
		fs.Var(&roles, "role", "role: user, operator or admin (may repeat)")
		fs.Var(&attrs, "attr", "attribute NAME=VALUE (may repeat)")
		fs.StringVar(&pwFile, "password-file", "", "file holding the password; - reads stdin")
	}
	return adminCommand(ctx, e, "user add", usage, args, 1, 1, setup, func(a *app, pos []string) error {
		u := &lanyard.User{Username: pos[0], Email: email, CommonName: name, State: lanyard.UserState(state), Attributes: map[string]string{}}
		for _, r := range roles {
			u.Roles = append(u.Roles, lanyard.Role(r))
		}
		if err := parseAttrs(attrs, u.Attributes); err != nil {
			return err
		}
		pw := ""
		if pwFile != "" {
			var err error
			if pw, err = readSecretFile(e, pwFile); err != nil {
				return err
			}
		}
		if err := a.users.CreateUser(ctx, lanyard.CLIActor, u, pw); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created user %s\n", u.Username)
		return nil
	})
}

func runUserList(ctx context.Context, e env, args []string) error {
	var asJSON bool
	var query, state string
	setup := func(fs flagSet) {
		fs.BoolVar(&asJSON, "json", false, "print a JSON array")
		fs.StringVar(&query, "query", "", "only users whose username, email or name contains this")
		fs.StringVar(&state, "state", "", "only users in this state")
	}
	return adminCommand(ctx, e, "user list", "user list [--json]", args, 0, 0, setup, func(a *app, _ []string) error {
		f := lanyard.UserFilter{Query: query, State: lanyard.UserState(state)}
		if state != "" && !f.State.Valid() {
			return lanyard.Errorf(lanyard.EINVALID, "The state %q is not one of registered, active, inactive, locked.", state)
		}
		users, err := a.users.FindUsers(ctx, f)
		if err != nil {
			return err
		}
		if asJSON {
			return printUsersJSON(e, users)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tEMAIL\tNAME\tSTATE\tROLES")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Username, u.Email, u.CommonName, u.State, joinRoles(u.Roles))
		}
		return tw.Flush()
	})
}

// userJSON is the stable JSON shape of `lanyard user list --json`.
type userJSON struct {
	Username   string            `json:"username"`
	Email      string            `json:"email"`
	CommonName string            `json:"common_name"`
	State      string            `json:"state"`
	Roles      []string          `json:"roles"`
	Attributes map[string]string `json:"attributes"`
	CreatedAt  string            `json:"created_at"`
}

func printUsersJSON(e env, users []*lanyard.User) error {
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		j := userJSON{Username: u.Username, Email: u.Email, CommonName: u.CommonName, State: string(u.State),
			Attributes: u.Attributes, CreatedAt: u.CreatedAt.Format("2006-01-02T15:04:05Z")}
		for _, r := range u.Roles {
			j.Roles = append(j.Roles, string(r))
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func runUserSetState(ctx context.Context, e env, args []string) error {
	const usage = "user set-state USERNAME STATE"
	return adminCommand(ctx, e, "user set-state", usage, args, 2, 2, nil, func(a *app, pos []string) error {
		// The state carries into the user's certificates: hold, release, revoke.
		if err := a.openCA(ctx); err != nil {
			return err
		}
		u, err := a.mobile.SetUserState(ctx, lanyard.CLIActor, pos[0], lanyard.UserState(pos[1]))
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s is %s\n", u.Username, u.State)
		return nil
	})
}

func runUserSetRole(ctx context.Context, e env, args []string) error {
	const usage = "user set-role USERNAME ROLE..."
	return adminCommand(ctx, e, "user set-role", usage, args, 2, -1, nil, func(a *app, pos []string) error {
		var roles []lanyard.Role
		for _, r := range pos[1:] {
			roles = append(roles, lanyard.Role(r))
		}
		u, err := a.users.SetUserRoles(ctx, lanyard.CLIActor, pos[0], roles)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s has roles %s\n", u.Username, joinRoles(u.Roles))
		return nil
	})
}

func joinRoles(roles []lanyard.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}

// runUserSetPassword sets a user's password from a file, one-time unless
// --keep is given, and ends the user's sessions: the way back in for an
// administrator who lost theirs.
func runUserSetPassword(ctx context.Context, e env, args []string) error {
	const usage = "user set-password USERNAME --password-file F [--keep]"
	var pwFile string
	var keep bool
	setup := func(fs flagSet) {
		fs.StringVar(&pwFile, "password-file", "", "file holding the new password; - reads stdin (required)")
		fs.BoolVar(&keep, "keep", false, "the user keeps the password (default: they must change it at the next login)")
	}
	return adminCommand(ctx, e, "user set-password", usage, args, 1, 1, setup, func(a *app, pos []string) error {
		if pwFile == "" {
			return fmt.Errorf("%w: --password-file is required; usage: lanyard %s", errUsage, usage)
		}
		pw, err := readSecretFile(e, pwFile)
		if err != nil {
			return err
		}
		if err := a.users.SetPassword(ctx, lanyard.CLIActor, pos[0], pw, !keep); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "password of %s set\n", pos[0])
		return nil
	})
}
