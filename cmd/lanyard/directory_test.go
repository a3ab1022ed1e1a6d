package main

import (
	"testing"
)

// TestLDAPInClearRefused: a directory password must not cross the network
// in clear, so serve and the admin commands refuse a non-loopback ldap://
// URL without StartTLS as bad usage, before opening anything.
func TestLDAPInClearRefused(t *testing.T) {
	c := newCLI(t, "sqlite")
	ldap := []string{"--ldap-url", "ldap://ldap.example.com", "--ldap-base-dn", "dc=example,dc=com"}
	c.fails(2, "sends passwords in clear", append([]string{"serve"}, ldap...)...)
	c.fails(2, "sends passwords in clear", append([]string{"directory", "sync"}, ldap...)...)
	c.fails(2, "needs --ldap-url", "directory", "sync")
	c.fails(2, "usage: lanyard directory sync", "directory", "resync")
}
