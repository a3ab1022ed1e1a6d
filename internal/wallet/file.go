package wallet

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
)

// Save encrypts the wallet's profiles and writes them to the wallet file
// atomically: a crash leaves either the old file or the new one, whole.
func (w *Wallet) Save() error {
	plaintext, err := encodeProfiles(w.profiles)
	if err != nil {
		return err
	}
	defer clear(plaintext)
	nonce := make([]byte, 12)
	rand.Read(nonce)
	file, err := seal(w.keys, w.kdf, nonce, plaintext)
	if err != nil {
		return err
	}
	return writeAtomic(w.dir, FileName, file)
}

// writeAtomic writes data to name in dir through a temporary file in the
// same folder, synced and then renamed over the old file.
func writeAtomic(dir, name string, data []byte) (err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create wallet folder: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".wallet-*.tmp")
	if err != nil {
		return fmt.Errorf("write wallet: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write wallet: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write wallet: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write wallet: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write wallet: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("write wallet: %w", err)
	}
	// Sync the folder so that the rename itself survives a crash.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
