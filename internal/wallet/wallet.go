// Package wallet is the Lanyard app's wallet: a folder holding the app's
// profiles, one per mobile ID, with their keys and certificates, encrypted
// under a key derived from the user's PIN.
//
// The folder holds one file, wallet.json.enc. Its first line is a plaintext
// JSON header with the argon2id salt and parameters; the rest is the
// profiles as JSON sealed with AES-256-GCM, the header being authenticated
// data. Nothing in the file is readable without the PIN, and a file that
// was altered does not open.
//
// A Wallet is meant for one process at a time and is not safe for
// concurrent use: changes are made in memory and written by Save.
package wallet

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lanyard-id/lanyard"
)

// FileName is the name of the wallet file inside the wallet folder.
const FileName = "wallet.json.enc"

// MinPINLength is the shortest PIN a wallet accepts.
const MinPINLength = 4

// ErrWrongPIN is returned by Open when the PIN does not open the wallet.
// Nothing is written in that case.
var ErrWrongPIN = lanyard.Errorf(lanyard.EUNAUTHORIZED, "The wallet did not open: wrong PIN.")

// errDamaged is returned when the wallet file was altered or is not a
// wallet file.
var errDamaged = lanyard.Errorf(lanyard.EINVALID, "The wallet file is damaged or has been altered.")

// Wallet is an open wallet: its profiles in memory and the key to save
// them again.
type Wallet struct {
	dir      string
	keys     keys
	kdf      kdfHeader
	profiles []Profile
}

// Open opens the wallet in dir with pin. It fails with a not_found error if
// dir holds no wallet and with ErrWrongPIN if the PIN is wrong. The PIN is
// used as given: stripping a trailing newline is the caller's business.
func Open(dir, pin string) (*Wallet, error) {
	file, err := os.ReadFile(filepath.Join(dir, FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "There is no wallet in %s.", dir)
	} else if err != nil {
		return nil, fmt.Errorf("read wallet: %w", err)
	}
	plaintext, k, kdf, err := open(file, pin)
	if err != nil {
		return nil, err
	}
	defer clear(plaintext)
	profiles, err := decodeProfiles(plaintext)
	if err != nil {
		return nil, errDamaged
	}
	return &Wallet{dir: dir, keys: k, kdf: kdf, profiles: profiles}, nil
}

// Create makes a new, empty wallet in dir protected by pin and writes it.
// The folder is created with mode 0700 if it is missing. Create fails with
// a conflict error if dir already holds a wallet.
func Create(dir, pin string) (*Wallet, error) {
	if len(pin) < MinPINLength {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The PIN must be at least %d characters long.", MinPINLength)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create wallet folder: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err == nil {
		return nil, lanyard.Errorf(lanyard.ECONFLICT, "There is already a wallet in %s.", dir)
	}
	w := &Wallet{dir: dir}
	if err := w.setPIN(pin); err != nil {
		return nil, err
	}
	if err := w.Save(); err != nil {
		return nil, err
	}
	return w, nil
}

// OpenOrCreate opens the wallet in dir, or creates it with pin if dir
// holds none. Enrolment uses it: the first profile creates the wallet.
func OpenOrCreate(dir, pin string) (*Wallet, error) {
	w, err := Open(dir, pin)
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		return Create(dir, pin)
	}
	return w, err
}

// ChangePIN protects the wallet with a new PIN, with a fresh salt and the
// current DefaultKDF parameters, and saves it.
func (w *Wallet) ChangePIN(pin string) error {
	if len(pin) < MinPINLength {
		return lanyard.Errorf(lanyard.EINVALID, "The PIN must be at least %d characters long.", MinPINLength)
	}
	if err := w.setPIN(pin); err != nil {
		return err
	}
	return w.Save()
}

// setPIN derives new keys from pin with a fresh salt.
func (w *Wallet) setPIN(pin string) error {
	kdf := kdfHeader{Name: "argon2id", Salt: make([]byte, 32),
		Memory: DefaultKDF.Memory, Time: DefaultKDF.Time, Threads: DefaultKDF.Threads}
	rand.Read(kdf.Salt)
	k, err := deriveKeys(pin, kdf)
	if err != nil {
		return fmt.Errorf("derive wallet key: %w", err)
	}
	w.keys, w.kdf = k, kdf
	return nil
}
