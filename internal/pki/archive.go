package pki

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strconv"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/secret"
)

// The key archive is an envelope of three layers, all AES-256-GCM:
//
//	master key (KEK, a file outside the database)
//	  └─ seals the key-recovery key (one per CA, in the ca row)
//	       └─ wraps a data key made for each archived key
//	            └─ encrypts the PKCS#8 private key
//
// The data key and the private key are sealed with the certificate serial
// and the user ID as associated data, so a ciphertext copied to another row
// does not open. A database dump alone reveals no key; the master key alone
// reveals none either.

func archiveAD(layer, serial string, userID int64) string {
	return "lanyard archived " + layer + " v1|" + serial + "|" + strconv.FormatInt(userID, 10)
}

// sealArchive encrypts key for the archive record of the certificate serial.
func (ca *CA) sealArchive(userID int64, serial string, key *rsa.PrivateKey) (*ArchivedKey, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode archived key: %w", err)
	}
	defer clear(der)
	dataKey := make([]byte, 32)
	rand.Read(dataKey)
	defer clear(dataKey)
	ciphertext, err := secret.Seal(dataKey, der, archiveAD("key", serial, userID))
	if err != nil {
		return nil, err
	}
	wrapped, err := secret.Seal(ca.recoveryKey, dataKey, archiveAD("data key", serial, userID))
	if err != nil {
		return nil, err
	}
	return &ArchivedKey{
		UserID: userID, Serial: serial, Algorithm: "rsa-" + strconv.Itoa(key.N.BitLen()),
		WrappedKey: wrapped, Ciphertext: ciphertext,
	}, nil
}

// openArchive decrypts an archive record.
func (ca *CA) openArchive(k *ArchivedKey) (*rsa.PrivateKey, error) {
	dataKey, err := secret.Open(ca.recoveryKey, k.WrappedKey, archiveAD("data key", k.Serial, k.UserID))
	if err != nil {
		return nil, fmt.Errorf("unwrap data key of %s: %w", k.Serial, err)
	}
	defer clear(dataKey)
	der, err := secret.Open(dataKey, k.Ciphertext, archiveAD("key", k.Serial, k.UserID))
	if err != nil {
		return nil, fmt.Errorf("decrypt archived key of %s: %w", k.Serial, err)
	}
	defer clear(der)
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("decode archived key of %s: %w", k.Serial, err)
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("archived key of %s is a %T", k.Serial, key)
	}
	return rsaKey, nil
}

// RecoverKey returns the archived private key of the user's encryption
// certificate with the given serial, and audits the recovery.
func (ca *CA) RecoverKey(ctx context.Context, actor lanyard.Actor, userID int64, serial string) (*rsa.PrivateKey, error) {
	serial, err := ParseSerial(serial)
	if err != nil {
		return nil, err
	}
	k, err := ca.store.RecoverArchivedKey(ctx, actor, userID, serial)
	if err != nil {
		return nil, err
	}
	return ca.openArchive(k)
}

// FindArchivedCertificates lists the user's certificates with an archived
// key, newest first, expired and revoked ones included.
func (ca *CA) FindArchivedCertificates(ctx context.Context, userID int64) ([]*lanyard.Certificate, error) {
	return ca.store.FindCertificates(ctx, userID, true)
}
