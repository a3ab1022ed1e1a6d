package pki

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MasterKeySize is the size of the key-encryption key in bytes (AES-256).
const MasterKeySize = 32

// ErrMasterKeyMismatch is returned when the database holds a CA whose keys
// the configured master key cannot decrypt. Its text is meant to be the one
// line an operator reads.
var ErrMasterKeyMismatch = errors.New("the master key does not match the CA in the database; give every instance the same master key file")

// loadMasterKey reads the key-encryption key from file, or, when file is
// empty, from master.key in dataDir, which it creates with mode 0600 on the
// first start. A file may hold the 32 bytes raw, in hexadecimal or in base64
// (as "openssl rand -base64 32" writes them).
func loadMasterKey(file, dataDir string) ([]byte, error) {
	if file == "" {
		if dataDir == "" {
			return nil, errors.New("no master key file and no data folder to create one in")
		}
		file = filepath.Join(dataDir, "master.key")
		if err := createMasterKey(file); err != nil {
			return nil, err
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read master key: %w", err)
	}
	key, err := decodeMasterKey(b)
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", file, err)
	}
	return key, nil
}

// createMasterKey writes a new random key to file unless it exists. The key
// is written to a temporary file and linked into place, so that processes
// starting together on one folder all read the same complete key.
func createMasterKey(file string) error {
	if _, err := os.Stat(file); err == nil {
		return nil
	}
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".master.key-*")
	if err != nil {
		return fmt.Errorf("create master key: %w", err)
	}
	defer os.Remove(tmp.Name())
	key := make([]byte, MasterKeySize)
	rand.Read(key)
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write master key: %w", err)
	}
	// CreateTemp makes the file with mode 0600; Link fails if another
	// process linked its key first, and that key is then the one to use.
	if err := os.Link(tmp.Name(), file); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("install master key: %w", err)
	}
	return nil
}

func decodeMasterKey(b []byte) ([]byte, error) {
	if len(b) == MasterKeySize {
		return b, nil
	}
	s := strings.TrimSpace(string(b))
	if k, err := hex.DecodeString(s); err == nil && len(k) == MasterKeySize {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == MasterKeySize {
		return k, nil
	}
	return nil, fmt.Errorf("want %d bytes, raw, in hexadecimal or in base64", MasterKeySize)
}

// LoadMasterKey returns the master key the CA would use with the same
// settings, creating it on the first start like Open does. Other keys at
// rest (the outbox's, for one) are derived from it.
func LoadMasterKey(file, dataDir string) ([]byte, error) { return loadMasterKey(file, dataDir) }
