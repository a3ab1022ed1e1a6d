package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/internal/config"
)

func TestBaseURLWithTLS(t *testing.T) {
	cases := []struct {
		name string
		edit func(*config.Config)
		want string
	}{
		{"plain", func(c *config.Config) {}, "http://127.0.0.1:8080"},
		{"files", func(c *config.Config) { c.TLSCert, c.TLSKey = "c.pem", "k.pem" }, "https://127.0.0.1:8080"},
		{"acme on 443", func(c *config.Config) { c.ACMEDomain, c.Listen = "id.example.com", ":443" }, "https://id.example.com"},
		{"acme elsewhere", func(c *config.Config) { c.ACMEDomain, c.Listen = "id.example.com", ":8443" }, "https://id.example.com:8443"},
		{"public url wins", func(c *config.Config) { c.TLSCert, c.TLSKey, c.PublicURL = "c", "k", "https://id.example.com/" }, "https://id.example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			tc.edit(&c)
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := c.BaseURL(); got != tc.want {
				t.Fatalf("BaseURL %s, want %s", got, tc.want)
			}
		})
	}
}

func TestValidateRefusesHTTPSAndDirectory(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*config.Config)
		want  string
		usage bool
	}{
		{"cert without key", func(c *config.Config) { c.TLSCert = "c.pem" }, "--tls-key", false},
		{"files and acme", func(c *config.Config) { c.TLSCert, c.TLSKey, c.ACMEDomain = "c", "k", "id.example.com" }, "--acme-domain", false},
		{"acme directory", func(c *config.Config) { c.ACMEDomain, c.ACMEDirectory = "id.example.com", "http://acme" }, "--acme-directory", false},
		{"listen http", func(c *config.Config) { c.ListenHTTP = "80" }, "--listen-http", false},
		{"redirect to plain http", func(c *config.Config) { c.ListenHTTP = "127.0.0.1:8081" }, "--listen-http redirects", false},
		{"ldap scheme", func(c *config.Config) { c.LDAPURL, c.LDAPBaseDN = "http://ldap", "dc=x" }, "--ldap-url", false},
		{"ldap in clear", func(c *config.Config) { c.LDAPURL, c.LDAPBaseDN = "ldap://ldap.example.com", "dc=x" }, "--ldap-starttls", true},
		{"ldap base", func(c *config.Config) { c.LDAPURL = "ldaps://ldap.example.com" }, "--ldap-base-dn", false},
		{"ldap schema", func(c *config.Config) { c.LDAPURL, c.LDAPBaseDN, c.LDAPSchema = "ldaps://l", "dc=x", "novell" }, "--ldap-schema", false},
		{"ldap limit", func(c *config.Config) { c.LDAPURL, c.LDAPBaseDN, c.LDAPMaxDeactivate = "ldaps://l", "dc=x", "150%" }, "--ldap-max-deactivate", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			tc.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, config.ErrUsage) != tc.usage {
				t.Fatalf("err = %v, want one naming %s (usage %t)", err, tc.want, tc.usage)
			}
		})
	}
	for _, ok := range []string{"ldap://127.0.0.1:389", "ldap://localhost", "ldap://[::1]:1389", "ldapi:///var/run/slapd/ldapi"} {
		c := config.Default()
		c.LDAPURL, c.LDAPBaseDN = ok, "dc=x"
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
