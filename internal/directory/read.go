package directory

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/lanyard-id/lanyard"
)

// Directory reads one LDAP directory.
type Directory struct {
	cfg  Config
	pool *pool
}

// New returns the directory of cfg; it connects only when used.
func New(cfg Config) (*Directory, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Directory{cfg: cfg, pool: &pool{cfg: cfg}}, nil
}

// Close closes the idle connections.
func (d *Directory) Close() { d.pool.close() }

// adCapability is the root DSE's supportedCapabilities value by which
// Active Directory (and Samba's AD) announce themselves.
const adCapability = "1.2.840.113556.1.4.800"

// spool holds the entries of one read in a temporary file, one JSON
// object a line, so that memory stays bounded however large the directory.
type spool struct {
	f *os.File
	n int
}

func (s *spool) close() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// entries reads the spool back once.
func (s *spool) entries() iter.Seq2[*lanyard.DirectoryEntry, error] {
	return func(yield func(*lanyard.DirectoryEntry, error) bool) {
		if _, err := s.f.Seek(0, io.SeekStart); err != nil {
			yield(nil, fmt.Errorf("read spool: %w", err))
			return
		}
		r := bufio.NewReaderSize(s.f, 64<<10)
		for {
			line, err := r.ReadBytes('\n')
			if errors.Is(err, io.EOF) && len(line) == 0 {
				return
			} else if err != nil && !errors.Is(err, io.EOF) {
				yield(nil, fmt.Errorf("read spool: %w", err))
				return
			}
			var e lanyard.DirectoryEntry
			if err := json.Unmarshal(line, &e); err != nil {
				yield(nil, fmt.Errorf("read spool: %w", err))
				return
			}
			if !yield(&e, nil) {
				return
			}
		}
	}
}

// read searches every user of the directory, with the roles its groups
// give, into a spool the caller closes.
func (d *Directory) read(ctx context.Context) (*spool, error) {
	c, err := d.pool.get()
	if err != nil {
		return nil, err
	}
	healthy := false
	defer func() { d.pool.put(c, healthy && ctx.Err() == nil) }()
	// The library's requests do not watch a context: closing the
	// connection is what ends one when the sync is cancelled.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := d.pool.bindService(c); err != nil {
		return nil, err
	}
	members, err := d.groupMembers(ctx, c)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "lanyard-directory-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	sp := &spool{f: f}
	w := bufio.NewWriterSize(f, 64<<10)
	enc := json.NewEncoder(w)
	req := ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		d.cfg.UserFilter, d.cfg.attributes(), nil)
	err = d.pagedSearch(ctx, c, req, func(le *ldap.Entry) error {
		e := d.cfg.mapEntry(le)
		e.Roles = []lanyard.Role{lanyard.RoleUser}
		dn := canonicalDN(le.DN)
		for _, role := range []lanyard.Role{lanyard.RoleOperator, lanyard.RoleAdmin} {
			if members[role][dn] {
				e.Roles = append(e.Roles, role)
			}
		}
		sp.n++
		return enc.Encode(e)
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		sp.close()
		return nil, err
	}
	healthy = true
	return sp, nil
}

// pagedSearch runs req page by page (RFC 2696), handing each entry to fn,
// so that no page larger than PageSize is ever held.
func (d *Directory) pagedSearch(ctx context.Context, c *ldap.Conn, req *ldap.SearchRequest, fn func(*ldap.Entry) error) error {
	paging := ldap.NewControlPaging(d.cfg.PageSize)
	req.Controls = append(req.Controls, paging)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		res, err := c.Search(req)
		if err != nil {
			return fmt.Errorf("search %s: %w", req.BaseDN, unreachable(err))
		}
		for _, e := range res.Entries {
			if err := fn(e); err != nil {
				return err
			}
		}
		ctrl, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if !ok || len(ctrl.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(ctrl.Cookie)
	}
}

// groupMembers returns, for each role with a group, the canonical DNs of
// its members. Active Directory resolves nested groups itself with
// LDAP_MATCHING_RULE_IN_CHAIN; a directory in AD's shape that does not
// announce AD's capability has its nested groups followed here; OpenLDAP
// groups count their direct members.
func (d *Directory) groupMembers(ctx context.Context, c *ldap.Conn) (map[lanyard.Role]map[string]bool, error) {
	groups := map[lanyard.Role]string{lanyard.RoleOperator: d.cfg.GroupOperator, lanyard.RoleAdmin: d.cfg.GroupAdmin}
	out := map[lanyard.Role]map[string]bool{}
	inChain := false
	if d.cfg.Schema == ActiveDirectory && (d.cfg.GroupOperator != "" || d.cfg.GroupAdmin != "") {
		var err error
		if inChain, err = d.isActiveDirectory(c); err != nil {
			return nil, err
		}
	}
	for role, group := range groups {
		if group == "" {
			continue
		}
		set := map[string]bool{}
		var err error
		switch {
		case inChain:
			req := ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
				d.cfg.inChainFilter(group), []string{"1.1"}, nil)
			err = d.pagedSearch(ctx, c, req, func(e *ldap.Entry) error { set[canonicalDN(e.DN)] = true; return nil })
		default:
			err = d.expandGroup(c, group, d.cfg.Schema == ActiveDirectory, set)
		}
		if err != nil {
			return nil, fmt.Errorf("members of %s: %w", group, err)
		}
		out[role] = set
	}
	return out, nil
}

func (d *Directory) isActiveDirectory(c *ldap.Conn) (bool, error) {
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"supportedCapabilities"}, nil))
	if err != nil {
		return false, fmt.Errorf("read the root DSE: %w", unreachable(err))
	}
	return len(res.Entries) == 1 && slices.Contains(res.Entries[0].GetAttributeValues("supportedCapabilities"), adCapability), nil
}

// groupClasses are the object classes of groups, for telling a nested
// group from a person among a group's members.
const groupClasses = "(|(objectClass=group)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))"

// expandGroup adds the members of group to set; nested follows members
// that are groups themselves, each once.
func (d *Directory) expandGroup(c *ldap.Conn, group string, nested bool, set map[string]bool) error {
	queue, visited := []string{group}, map[string]bool{canonicalDN(group): true}
	for len(queue) > 0 {
		dn := queue[0]
		queue = queue[1:]
		res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
			groupClasses, []string{"member", "uniqueMember"}, nil))
		switch {
		case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) && dn == group:
			return errors.New("no such group")
		case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
			continue // a member that names nothing
		case err != nil:
			return unreachable(err)
		case len(res.Entries) == 0:
			if dn == group {
				return errors.New("not a group (groupOfNames, groupOfUniqueNames or group)")
			}
			continue // a person
		}
		e := res.Entries[0]
		for _, m := range append(e.GetEqualFoldAttributeValues("member"), e.GetEqualFoldAttributeValues("uniqueMember")...) {
			// uniqueMember may carry a "#'0101'B" unique identifier.
			if i := strings.LastIndex(m, "#"); i > 0 && strings.HasSuffix(m, "'B") {
				m = m[:i]
			}
			key := canonicalDN(m)
			set[key] = true
			if nested && !visited[key] {
				visited[key] = true
				queue = append(queue, m)
			}
		}
	}
	return nil
}
