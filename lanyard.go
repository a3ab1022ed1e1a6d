// Package lanyard is the domain of Lanyard, a self-hosted identity
// self-service portal that issues mobile IDs: sets of X.509 certificates held
// by a phone. It declares the types, states, service interfaces and error
// codes that the rest of the program implements and uses; it depends on the
// standard library only.
package lanyard

// Version is set at build time with -ldflags "-X github.com/lanyard-id/lanyard.Version=…".
var Version = "dev"
