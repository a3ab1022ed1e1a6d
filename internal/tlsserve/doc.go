// Package tlsserve lets lanyard serve HTTPS by itself: a certificate from
// files that is reloaded when they change, or one an ACME CA issues and
// renews, cached in the database so every instance of a cluster serves the
// same; and the plain-HTTP listener that redirects to HTTPS.
package tlsserve
