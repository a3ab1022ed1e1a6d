package directory

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Schemas name the two directory shapes whose defaults Lanyard knows.
const (
	OpenLDAP        = "openldap"
	ActiveDirectory = "ad"
)

// Config says where the directory is and how its entries map to users.
type Config struct {
	URL          string
	BindDN       string
	BindPassword string
	BaseDN       string
	Schema       string // OpenLDAP or ActiveDirectory
	UserFilter   string // empty: the schema's default
	AttrUsername string // empty: the schema's default
	AttrEmail    string
	AttrName     string
	// Attributes are further attributes copied into user.attributes.
	Attributes    []string
	GroupOperator string // DN of the operators' group; empty: the role is not the directory's
	GroupAdmin    string
	StartTLS      bool
	TLS           *tls.Config // nil: the system's roots, the URL's host name
	Timeout       time.Duration
	PageSize      uint32 // entries per page of a search; 0: 500
}

// withDefaults fills what the schema decides.
func (c Config) withDefaults() Config {
	if c.Schema == "" {
		c.Schema = OpenLDAP
	}
	if c.UserFilter == "" {
		c.UserFilter = "(objectClass=inetOrgPerson)"
		if c.Schema == ActiveDirectory {
			c.UserFilter = "(&(objectCategory=person)(objectClass=user))"
		}
	}
	if c.AttrUsername == "" {
		c.AttrUsername = "uid"
		if c.Schema == ActiveDirectory {
			c.AttrUsername = "sAMAccountName"
		}
	}
	if c.AttrEmail == "" {
		c.AttrEmail = "mail"
	}
	if c.AttrName == "" {
		c.AttrName = "cn"
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.PageSize == 0 {
		c.PageSize = 500
	}
	return c
}

// validate checks what Lanyard's config package cannot: that the filter
// parses.
func (c Config) validate() error {
	if _, err := ldap.CompileFilter(c.UserFilter); err != nil {
		return fmt.Errorf("--ldap-user-filter %q: %v", c.UserFilter, err)
	}
	if !strings.HasPrefix(strings.TrimSpace(c.UserFilter), "(") {
		return fmt.Errorf("--ldap-user-filter %q: want a filter in parentheses", c.UserFilter)
	}
	return nil
}

// tlsConfig is the TLS configuration of ldaps:// and StartTLS: the one
// given, with the URL's host as the name to check.
func (c Config) tlsConfig() *tls.Config {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.TLS != nil {
		t = c.TLS.Clone()
	}
	if t.ServerName == "" {
		if u, err := url.Parse(c.URL); err == nil {
			t.ServerName = u.Hostname()
		}
	}
	return t
}

// userFilter is the filter of one user by username.
func (c Config) userFilter(username string) string {
	return "(&" + c.UserFilter + "(" + c.AttrUsername + "=" + ldap.EscapeFilter(username) + "))"
}

// inChainFilter selects the users who are members of group, directly or
// through nested groups, with Active Directory's LDAP_MATCHING_RULE_IN_CHAIN.
func (c Config) inChainFilter(group string) string {
	return "(&" + c.UserFilter + "(memberOf:1.2.840.113556.1.4.1941:=" + ldap.EscapeFilter(group) + "))"
}

// attributes are the attributes a user search asks for.
func (c Config) attributes() []string {
	attrs := []string{c.AttrUsername, c.AttrEmail, c.AttrName}
	if c.Schema == ActiveDirectory {
		attrs = append(attrs, "userAccountControl")
	}
	return append(attrs, c.Attributes...)
}
