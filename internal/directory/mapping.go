package directory

import (
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/lanyard-id/lanyard"
)

// uacDisabled is the ACCOUNTDISABLE bit of Active Directory's
// userAccountControl.
const uacDisabled = 0x2

// mapEntry turns a search result into a directory entry, without roles.
func (c Config) mapEntry(e *ldap.Entry) *lanyard.DirectoryEntry {
	d := &lanyard.DirectoryEntry{
		DN:         e.DN,
		Username:   strings.ToLower(strings.TrimSpace(e.GetEqualFoldAttributeValue(c.AttrUsername))),
		Email:      strings.TrimSpace(e.GetEqualFoldAttributeValue(c.AttrEmail)),
		CommonName: strings.TrimSpace(e.GetEqualFoldAttributeValue(c.AttrName)),
		Attributes: map[string]string{},
	}
	for _, a := range c.Attributes {
		if vs := e.GetEqualFoldAttributeValues(a); len(vs) > 0 {
			d.Attributes[a] = strings.Join(vs, "\n")
		}
	}
	if c.Schema == ActiveDirectory {
		uac, err := strconv.ParseUint(strings.TrimSpace(e.GetEqualFoldAttributeValue("userAccountControl")), 10, 32)
		d.Disabled = err == nil && uac&uacDisabled != 0
	}
	return d
}

// canonicalDN renders a DN so that two spellings of one name compare
// equal: attribute types and values in lower case, no spaces between
// components. A DN that does not parse is only lower-cased.
func canonicalDN(dn string) string {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(dn))
	}
	var b strings.Builder
	for i, rdn := range parsed.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		for j, a := range rdn.Attributes {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(strings.ToLower(a.Type))
			b.WriteByte('=')
			b.WriteString(strings.ToLower(a.Value))
		}
	}
	return b.String()
}
