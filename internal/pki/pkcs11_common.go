package pki

import "fmt"

// PKCS11Config names the token that holds the CA keys.
type PKCS11Config struct {
	// Module is the path of the token vendor's PKCS#11 library, e.g.
	// /usr/lib/softhsm/libsofthsm2.so for SoftHSM2.
	Module string
	// TokenLabel selects the token by its label.
	TokenLabel string
	// PIN is the token's user PIN.
	PIN string
}

// BackendMismatchError is returned when the CA in the database keeps its
// keys in another key backend than the configured one, say in a PKCS#11
// token while the server starts with the software backend. Nothing is
// created or changed then. Its text is meant to be the one line an
// operator reads.
type BackendMismatchError struct {
	Stored     string // the backend named in the CA record
	Configured string // the backend the CA was opened with
}

func (e *BackendMismatchError) Error() string {
	switch e.Stored {
	case "pkcs11":
		return "the CA keys are in a PKCS#11 token; start with --ca-backend pkcs11 and its settings"
	case "software":
		return "the CA keys are sealed in the database, not in a PKCS#11 token; start with --ca-backend software"
	}
	return fmt.Sprintf("the CA keys are in the %s key backend, but %s is configured", e.Stored, e.Configured)
}
