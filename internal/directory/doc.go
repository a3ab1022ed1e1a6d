// Package directory reads Lanyard's users from an LDAP directory — OpenLDAP
// or Active Directory — and logs them in by binding to it as themselves.
// A sync reads every entry with paged searches into a spool file, so that
// a directory of any size syncs in bounded memory and the database
// transaction that applies it does not wait on the network; the store then
// applies the whole directory in one transaction, and the state changes of
// users who left or came back go through the mobile ID service, which puts
// their certificates on hold or releases them.
package directory
