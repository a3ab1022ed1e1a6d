package wallet

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// KDFParams are the argon2id parameters that turn a PIN into the wallet
// key. They are stored in the wallet's plaintext header, so a wallet keeps
// opening after the defaults change.
type KDFParams struct {
	Memory  uint32 // in KiB
	Time    uint32 // passes over the memory
	Threads uint8
}

// DefaultKDF is used for new wallets and new PINs: 64 MiB, three passes,
// two lanes, the first recommendation of RFC 9106 scaled to a phone. Tests
// may lower it to keep runs fast.
var DefaultKDF = KDFParams{Memory: 64 * 1024, Time: 3, Threads: 2}

// Limits on header parameters, so that an altered header cannot make Open
// allocate without bound.
const (
	maxMemory  = 4 * 1024 * 1024 // 4 GiB in KiB
	maxTime    = 64
	minSaltLen = 16
)

// header is the plaintext first line of the wallet file. It is the
// associated data of the AES-GCM seal, so any change to it is detected.
type header struct {
	Format string    `json:"format"`
	KDF    kdfHeader `json:"kdf"`
	Check  []byte    `json:"pin_check"`
	Nonce  []byte    `json:"nonce"`
}

// kdfHeader records how the key was derived from the PIN.
type kdfHeader struct {
	Name    string `json:"name"`
	Salt    []byte `json:"salt"`
	Memory  uint32 `json:"memory_kib"`
	Time    uint32 `json:"iterations"`
	Threads uint8  `json:"threads"`
}

// fileFormat names the file layout; a future layout gets a new name.
const fileFormat = "lanyard-wallet-v1"

// keys are the secrets derived from the PIN: the AES-256-GCM key and a
// short value that tells a wrong PIN from a damaged file. The check value
// tells an attacker nothing the sealed content would not.
type keys struct {
	content []byte
	check   []byte
}

// deriveKeys runs argon2id over the PIN with the header's parameters.
func deriveKeys(pin string, kdf kdfHeader) (keys, error) {
	if kdf.Name != "argon2id" || len(kdf.Salt) < minSaltLen || kdf.Memory > maxMemory ||
		kdf.Time == 0 || kdf.Time > maxTime || kdf.Threads == 0 || kdf.Memory < 8*uint32(kdf.Threads) {
		return keys{}, errors.New("unsupported key derivation parameters")
	}
	master := argon2.IDKey([]byte(pin), kdf.Salt, kdf.Time, kdf.Memory, kdf.Threads, 32)
	defer clear(master)
	content, err := hkdf.Key(sha256.New, master, nil, "lanyard wallet content key", 32)
	if err != nil {
		return keys{}, err
	}
	check, err := hkdf.Key(sha256.New, master, nil, "lanyard wallet PIN check", 16)
	if err != nil {
		return keys{}, err
	}
	return keys{content: content, check: check}, nil
}

// seal encrypts plaintext under k and returns the whole file: the header
// line, a newline and the ciphertext.
func seal(k keys, kdf kdfHeader, nonce, plaintext []byte) ([]byte, error) {
	line, err := json.Marshal(header{Format: fileFormat, KDF: kdf, Check: k.check, Nonce: nonce})
	if err != nil {
		return nil, fmt.Errorf("encode wallet header: %w", err)
	}
	aead, err := newAEAD(k.content)
	if err != nil {
		return nil, err
	}
	out := append(line, '\n')
	return aead.Seal(out, nonce, plaintext, line), nil
}

// open checks the PIN against the header and decrypts the content. It
// returns ErrWrongPIN for a wrong PIN and errDamaged for a file that was
// altered; the derived keys are returned for later saves.
func open(file []byte, pin string) (plaintext []byte, k keys, kdf kdfHeader, err error) {
	line, ciphertext, ok := bytes.Cut(file, []byte{'\n'})
	var h header
	if !ok || json.Unmarshal(line, &h) != nil || h.Format != fileFormat {
		return nil, keys{}, kdfHeader{}, errDamaged
	}
	if k, err = deriveKeys(pin, h.KDF); err != nil {
		return nil, keys{}, kdfHeader{}, errDamaged
	}
	if subtle.ConstantTimeCompare(k.check, h.Check) != 1 {
		return nil, keys{}, kdfHeader{}, ErrWrongPIN
	}
	aead, err := newAEAD(k.content)
	if err != nil || len(h.Nonce) != aead.NonceSize() {
		return nil, keys{}, kdfHeader{}, errDamaged
	}
	if plaintext, err = aead.Open(nil, h.Nonce, ciphertext, line); err != nil {
		return nil, keys{}, kdfHeader{}, errDamaged
	}
	return plaintext, k, h.KDF, nil
}

// newAEAD returns AES-256-GCM under key.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("wallet cipher: %w", err)
	}
	return cipher.NewGCM(block)
}
