package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard/internal/cli"
)

// ErrUsage marks a setting that is refused as bad usage (exit code 2)
// rather than as a failure, such as a directory password sent in clear.
var ErrUsage = errors.New("bad usage")

// Directory holds the settings of the LDAP directory users come from. An
// empty URL turns the directory off.
type Directory struct {
	LDAPURL              string
	LDAPBindDN           string
	LDAPBindPasswordFile string
	LDAPBaseDN           string
	LDAPUserFilter       string // default per schema
	LDAPSchema           string // openldap or ad
	LDAPAttrUsername     string // default per schema
	LDAPAttrEmail        string
	LDAPAttrName         string
	LDAPAttributes       string // further attributes, comma-separated, copied into user.attributes
	LDAPGroupOperator    string // DN of the group whose members are operators
	LDAPGroupAdmin       string // DN of the group whose members are administrators
	LDAPSyncInterval     time.Duration
	LDAPStartTLS         bool
	LDAPCAFile           string // PEM file of the CAs the directory's certificate is checked against
	LDAPMaxDeactivate    string // share of directory users one sync may deactivate, "10%"
	LDAPTimeout          time.Duration
}

func defaultDirectory() Directory {
	return Directory{LDAPSchema: "openldap", LDAPSyncInterval: 5 * time.Minute, LDAPMaxDeactivate: "10%", LDAPTimeout: 10 * time.Second}
}

func registerDirectory(fs *flag.FlagSet, c *Directory) {
	fs.StringVar(&c.LDAPURL, "ldap-url", c.LDAPURL, "LDAP directory users come from: ldap://, ldaps:// or ldapi:// URL; empty: no directory")
	fs.StringVar(&c.LDAPBindDN, "ldap-bind-dn", c.LDAPBindDN, "DN lanyard binds as to read the directory")
	fs.StringVar(&c.LDAPBindPasswordFile, "ldap-bind-password-file", c.LDAPBindPasswordFile, "file holding the password of --ldap-bind-dn")
	fs.StringVar(&c.LDAPBaseDN, "ldap-base-dn", c.LDAPBaseDN, "DN under which users are searched")
	fs.StringVar(&c.LDAPUserFilter, "ldap-user-filter", c.LDAPUserFilter, "LDAP filter of the users (default (objectClass=inetOrgPerson) for openldap, (&(objectCategory=person)(objectClass=user)) for ad)")
	fs.StringVar(&c.LDAPSchema, "ldap-schema", c.LDAPSchema, "directory schema: openldap or ad (Active Directory)")
	fs.StringVar(&c.LDAPAttrUsername, "ldap-attr-username", c.LDAPAttrUsername, "attribute of the username (default uid for openldap, sAMAccountName for ad)")
	fs.StringVar(&c.LDAPAttrEmail, "ldap-attr-email", c.LDAPAttrEmail, "attribute of the email address (default mail)")
	fs.StringVar(&c.LDAPAttrName, "ldap-attr-name", c.LDAPAttrName, "attribute of the common name (default cn)")
	fs.StringVar(&c.LDAPAttributes, "ldap-attributes", c.LDAPAttributes, "further attributes, comma-separated, given to the option scripts as user.attributes")
	fs.StringVar(&c.LDAPGroupOperator, "ldap-group-operator", c.LDAPGroupOperator, "DN of the group whose members get the operator role")
	fs.StringVar(&c.LDAPGroupAdmin, "ldap-group-admin", c.LDAPGroupAdmin, "DN of the group whose members get the admin role")
	fs.DurationVar(&c.LDAPSyncInterval, "ldap-sync-interval", c.LDAPSyncInterval, "how often users are read from the directory")
	fs.BoolVar(&c.LDAPStartTLS, "ldap-starttls", c.LDAPStartTLS, "upgrade ldap:// connections with StartTLS")
	fs.StringVar(&c.LDAPCAFile, "ldap-ca-file", c.LDAPCAFile, "PEM file of the CAs that issued the directory's certificate (default: the system's)")
	fs.StringVar(&c.LDAPMaxDeactivate, "ldap-max-deactivate", c.LDAPMaxDeactivate, "largest share of directory users one sync may deactivate; a sync that would deactivate more changes nothing")
	fs.DurationVar(&c.LDAPTimeout, "ldap-timeout", c.LDAPTimeout, "time limit of each directory request")
}

// Enabled reports whether users come from a directory.
func (c Directory) Enabled() bool { return c.LDAPURL != "" }

// MaxDeactivatePercent returns --ldap-max-deactivate as a percentage.
func (c Directory) MaxDeactivatePercent() int {
	n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(c.LDAPMaxDeactivate), "%"))
	return n
}

// LDAPBindPassword reads the bind password; a trailing newline is not part of it.
func (c Directory) LDAPBindPassword() (string, error) {
	if c.LDAPBindPasswordFile == "" {
		return "", nil
	}
	return cli.ReadSecret(nil, c.LDAPBindPasswordFile, "--ldap-bind-password-file")
}

// LDAPAttributeList returns the further attributes of --ldap-attributes.
func (c Directory) LDAPAttributeList() []string {
	var out []string
	for _, a := range strings.Split(c.LDAPAttributes, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func (c Directory) validate() error {
	if !c.Enabled() {
		return nil
	}
	u, err := url.Parse(c.LDAPURL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps" && u.Scheme != "ldapi") || (u.Scheme != "ldapi" && u.Host == "") {
		return fmt.Errorf("--ldap-url %q: want an ldap://, ldaps:// or ldapi:// URL", c.LDAPURL)
	}
	if u.Scheme == "ldap" && !c.LDAPStartTLS && !IsLoopback(u.Hostname()) {
		return fmt.Errorf("%w: --ldap-url %s sends passwords in clear: use ldaps:// or --ldap-starttls", ErrUsage, c.LDAPURL)
	}
	if u.Scheme != "ldap" && c.LDAPStartTLS {
		return fmt.Errorf("--ldap-starttls goes only with an ldap:// URL")
	}
	if c.LDAPBaseDN == "" {
		return fmt.Errorf("--ldap-url needs --ldap-base-dn")
	}
	if c.LDAPSchema != "openldap" && c.LDAPSchema != "ad" {
		return fmt.Errorf("--ldap-schema %q: want openldap or ad", c.LDAPSchema)
	}
	if c.LDAPSyncInterval < 10*time.Second {
		return fmt.Errorf("--ldap-sync-interval %s: want at least 10s", c.LDAPSyncInterval)
	}
	if c.LDAPTimeout < time.Second {
		return fmt.Errorf("--ldap-timeout %s: want at least 1s", c.LDAPTimeout)
	}
	p, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(c.LDAPMaxDeactivate), "%"))
	if err != nil || p < 0 || p > 100 {
		return fmt.Errorf("--ldap-max-deactivate %q: want a percentage from 0%% to 100%%", c.LDAPMaxDeactivate)
	}
	return nil
}

// IsLoopback reports whether host names this machine: localhost or a
// loopback address, where a connection never leaves the machine.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
