package directory

import (
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestDefaultsPerSchema(t *testing.T) {
	cases := []struct {
		schema, filter, username string
	}{
		{OpenLDAP, "(objectClass=inetOrgPerson)", "uid"},
		{ActiveDirectory, "(&(objectCategory=person)(objectClass=user))", "sAMAccountName"},
	}
	for _, tc := range cases {
		t.Run(tc.schema, func(t *testing.T) {
			c := Config{Schema: tc.schema}.withDefaults()
			if c.UserFilter != tc.filter || c.AttrUsername != tc.username || c.AttrEmail != "mail" || c.AttrName != "cn" {
				t.Fatalf("defaults %+v", c)
			}
		})
	}
}

// TestInChainFilter checks the search Active Directory answers with the
// members of a group through every level of nesting; slapd cannot run it.
func TestInChainFilter(t *testing.T) {
	c := Config{Schema: ActiveDirectory}.withDefaults()
	got := c.inChainFilter("CN=Lanyard Admins,OU=Groups,DC=corp,DC=example")
	want := "(&(&(objectCategory=person)(objectClass=user))(memberOf:1.2.840.113556.1.4.1941:=CN=Lanyard Admins,OU=Groups,DC=corp,DC=example))"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if _, err := ldap.CompileFilter(got); err != nil {
		t.Fatalf("the filter does not compile: %v", err)
	}
	// A group name with filter metacharacters is escaped, not spliced.
	if f := c.inChainFilter("CN=a*b(c),DC=x"); f != "(&(&(objectCategory=person)(objectClass=user))(memberOf:1.2.840.113556.1.4.1941:=CN=a\\2ab\\28c\\29,DC=x))" {
		t.Fatalf("escaped filter %s", f)
	}
}

func TestMapEntryAD(t *testing.T) {
	c := Config{Schema: ActiveDirectory, Attributes: []string{"department", "title"}}.withDefaults()
	e := ldap.NewEntry("CN=Bob Smith,OU=Users,DC=corp,DC=example", map[string][]string{
		"sAMAccountName": {"Bob.Smith"}, "mail": {"bob@corp.example"}, "cn": {"Bob Smith"},
		"userAccountControl": {"66050"}, // NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD | ACCOUNTDISABLE
		"department":         {"IT"},
	})
	d := c.mapEntry(e)
	if d.Username != "bob.smith" || d.Email != "bob@corp.example" || d.CommonName != "Bob Smith" || !d.Disabled ||
		d.Attributes["department"] != "IT" || len(d.Attributes) != 1 {
		t.Fatalf("mapped %+v", d)
	}
	for _, a := range e.Attributes {
		if a.Name == "userAccountControl" {
			a.Values = []string{"66048"}
		}
	}
	if c.mapEntry(e).Disabled {
		t.Fatal("an enabled account mapped as disabled")
	}
}

func TestCanonicalDN(t *testing.T) {
	if a, b := canonicalDN("UID=User0002, OU=People,DC=example,DC=org"), canonicalDN("uid=user0002,ou=people,dc=example,dc=org"); a != b {
		t.Fatalf("%s != %s", a, b)
	}
}
