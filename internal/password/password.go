// Package password hashes and checks passwords with argon2id, encoded in the
// PHC string format so that the parameters travel with each hash and can be
// raised later without breaking stored passwords.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params are the argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default follows OWASP's recommendation for argon2id (19 MiB, two passes,
// one lane), which costs tens of milliseconds on a server core.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

var b64 = base64.RawStdEncoding

// Hash returns the PHC-encoded argon2id hash of pw with a fresh random salt.
func Hash(pw string, p Params) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// ErrMalformed is returned for a stored hash that is neither argon2id in
// PHC form nor bcrypt, or whose parameters are out of bounds.
var ErrMalformed = errors.New("password hash is malformed")

// Verify reports whether pw matches the encoded hash, in constant time.
// The hash is argon2id in PHC form, as Hash makes, or bcrypt, as imported
// from another system; either is checked against the bounds of Check
// first, so that no stored hash makes a login cost more than a few
// seconds or a few dozen MiB.
func Verify(pw, encoded string) (bool, error) {
	switch k, err := parse(encoded); {
	case err != nil:
		return false, ErrMalformed
	case k.bcrypt:
		err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(pw))
		if err != nil && !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, ErrMalformed
		}
		return err == nil, nil
	default:
		got := argon2.IDKey([]byte(pw), k.salt, k.params.Time, k.params.Memory, k.params.Threads, uint32(len(k.key)))
		return subtle.ConstantTimeCompare(got, k.key) == 1, nil
	}
}

// NeedsRehash reports whether a hash that just verified should be replaced
// by a fresh one with p: a bcrypt hash, or argon2id with other parameters.
func NeedsRehash(encoded string, p Params) bool {
	k, err := parse(encoded)
	return err != nil || k.bcrypt || k.params != p
}

// Generate returns a random password of n characters from an alphabet
// without look-alike characters, for one-time passwords.
func Generate(n int) string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	return generate(alphabet, n)
}

func generate(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		var r [1]byte
		for {
			rand.Read(r[:])
			// Rejection sampling keeps every character equally likely.
			if int(r[0]) < 256-256%len(alphabet) {
				break
			}
		}
		b[i] = alphabet[int(r[0])%len(alphabet)]
	}
	return string(b)
}
