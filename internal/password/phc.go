package password

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Bounds on the hashes Check accepts. They admit what other systems
// commonly use (OWASP's argon2id settings up to 46 MiB, RFC 9106's 64 MiB
// option, bcrypt up to cost 14, about a second per login) and refuse
// parameters that would make one login cost minutes or gigabytes.
const (
	MaxMemory     = 64 * 1024 // KiB
	MaxTime       = 10
	MaxThreads    = 16
	MaxWork       = 256 * 1024 // KiB × passes
	MinSaltLen    = 8
	MaxSaltLen    = 64
	MinKeyLen     = 16
	MaxKeyLen     = 64
	MinBcryptCost = 4
	MaxBcryptCost = 14
)

// LooksLikeHash reports whether s has the form of a modular crypt or PHC
// hash, "$id$…": such a value in an import is a hash, never a password.
func LooksLikeHash(s string) bool {
	id, rest, ok := strings.Cut(strings.TrimPrefix(s, "$"), "$")
	if !strings.HasPrefix(s, "$") || !ok || id == "" || len(id) > 32 || rest == "" {
		return false
	}
	return !strings.ContainsFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
	})
}

// Check reports why encoded is not a hash Lanyard stores as it is: argon2id
// in PHC form ($argon2id$v=19$m=…,t=…,p=…$salt$key, unpadded base64) or
// bcrypt ($2a$, $2b$ or $2y$), each within the bounds above.
func Check(encoded string) error {
	_, err := parse(encoded)
	return err
}

// parsed is a hash taken apart.
type parsed struct {
	bcrypt    bool
	params    Params
	salt, key []byte
}

func parse(encoded string) (parsed, error) {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		return parseArgon2id(encoded)
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return parsed{bcrypt: true}, checkBcrypt(encoded)
	case strings.HasPrefix(encoded, "$argon2"):
		return parsed{}, errors.New("only argon2id hashes are accepted, not argon2i or argon2d")
	case LooksLikeHash(encoded):
		id, _, _ := strings.Cut(encoded[1:], "$")
		return parsed{}, fmt.Errorf("a $%s$ hash is not accepted: only argon2id ($argon2id$) and bcrypt ($2a$, $2b$, $2y$)", id)
	}
	return parsed{}, errors.New("not an argon2id or bcrypt hash")
}

func parseArgon2id(encoded string) (parsed, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 {
		return parsed{}, errors.New("malformed argon2id hash: want $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return parsed{}, fmt.Errorf("malformed argon2id hash: the version must be v=%d", argon2.Version)
	}
	// m, t and p, each once, in any order.
	var v [3]uint64
	var seen [3]bool
	for _, kv := range strings.Split(parts[3], ",") {
		name, val, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(val, 10, 32)
		i := strings.Index("mtp", name)
		if err != nil || len(name) != 1 || i < 0 || seen[i] || val != strconv.FormatUint(n, 10) {
			return parsed{}, errors.New("malformed argon2id hash: the parameters must be m=…,t=…,p=… in decimal")
		}
		v[i], seen[i] = n, true
	}
	m, t, p := v[0], v[1], v[2]
	switch {
	case seen != [3]bool{true, true, true}:
		return parsed{}, errors.New("malformed argon2id hash: the parameters must be m=…,t=…,p=…")
	case p < 1 || p > MaxThreads:
		return parsed{}, fmt.Errorf("argon2id hash out of bounds: p must be 1 to %d", MaxThreads)
	case m < 8*p || m > MaxMemory:
		return parsed{}, fmt.Errorf("argon2id hash out of bounds: m must be %d to %d KiB", 8*p, MaxMemory)
	case t < 1 || t > MaxTime || t*m > MaxWork:
		return parsed{}, fmt.Errorf("argon2id hash out of bounds: t must be 1 to %d, and m×t at most %d", MaxTime, MaxWork)
	}
	k := parsed{params: Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(p)}}
	var err1, err2 error
	k.salt, err1 = b64.Strict().DecodeString(parts[4])
	k.key, err2 = b64.Strict().DecodeString(parts[5])
	switch {
	case err1 != nil || err2 != nil:
		return parsed{}, errors.New("malformed argon2id hash: the salt and hash must be unpadded base64")
	case len(k.salt) < MinSaltLen || len(k.salt) > MaxSaltLen:
		return parsed{}, fmt.Errorf("argon2id hash out of bounds: the salt must have %d to %d bytes", MinSaltLen, MaxSaltLen)
	case len(k.key) < MinKeyLen || len(k.key) > MaxKeyLen:
		return parsed{}, fmt.Errorf("argon2id hash out of bounds: the hash must have %d to %d bytes", MinKeyLen, MaxKeyLen)
	}
	return k, nil
}

// bcryptAlphabet is bcrypt's own base64 alphabet.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func checkBcrypt(encoded string) error {
	// $2b$12$ then 22 characters of salt and 31 of hash.
	if len(encoded) != 60 || encoded[6] != '$' || strings.Trim(encoded[7:], bcryptAlphabet) != "" {
		return errors.New("malformed bcrypt hash: want $2b$NN$ and 53 characters of salt and hash")
	}
	cost, err := strconv.Atoi(encoded[4:6])
	if err != nil || encoded[4] < '0' || encoded[4] > '9' {
		return errors.New("malformed bcrypt hash: the cost must be two digits")
	}
	if cost < MinBcryptCost || cost > MaxBcryptCost {
		return fmt.Errorf("bcrypt hash out of bounds: the cost must be %d to %d", MinBcryptCost, MaxBcryptCost)
	}
	return nil
}
