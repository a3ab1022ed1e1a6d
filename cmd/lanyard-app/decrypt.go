package main

import (
	"context"
	"crypto"
	"fmt"
	"os"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/cms"
)

// runDecrypt decrypts a CMS message with the wallet's encryption keys.
func runDecrypt(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("decrypt", "decrypt --in FILE.p7m --out FILE",
		"Decrypt a CMS EnvelopedData message (DER, PEM or S/MIME, as 'openssl cms -encrypt' writes it) with any\nencryption key in the wallet, recovered and expired ones included.")
	fs.String("in", "", "the encrypted message, `FILE`.p7m")
	out := fs.String("out", "", "where to write the decrypted content, `FILE`")
	message, err := fs.inputFile(args, "the message")
	if err != nil {
		return err
	}
	w, err := a.openWallet()
	if err != nil {
		return err
	}
	var recipients []cms.Recipient
	for _, id := range w.DecryptionKeys() {
		recipients = append(recipients, cms.Recipient{Certificate: id.Certificate, Key: id.Key.(crypto.Decrypter)})
	}
	if len(recipients) == 0 {
		return lanyard.Errorf(lanyard.ENOTFOUND, "The wallet holds no encryption key.")
	}
	content, err := cms.Decrypt(message, recipients...)
	if err != nil {
		return err
	}
	// The content was secret: only its owner may read the file.
	if err := os.WriteFile(*out, content, 0o600); err != nil {
		return fmt.Errorf("write the decrypted content: %w", err)
	}
	return nil
}
