package main

import (
	"context"
	"fmt"
	"os"

	"github.com/lanyard-id/lanyard/internal/cms"
)

// runSign writes a detached CMS signature of a file.
func runSign(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("sign", "sign --in FILE --out FILE.p7s [--profile NAME]",
		"Sign a file with the signature key of a profile and write a detached CMS SignedData in DER, carrying\nthe signature certificate and its CA chain. Check it with 'openssl cms -verify -binary -inform DER\n-in FILE.p7s -content FILE'.")
	fs.String("in", "", "the `FILE` to sign")
	out := fs.String("out", "", "where to write the signature, `FILE`.p7s")
	profile := fs.String("profile", "", "sign with the profile `NAME` (default: the first active profile that can sign)")
	content, err := fs.inputFile(args, "the file to sign")
	if err != nil {
		return err
	}
	w, err := a.openWallet()
	if err != nil {
		return err
	}
	id, err := w.SigningIdentity(*profile)
	if err != nil {
		return err
	}
	sig, err := cms.SignDetached(content, id.Certificate, id.Chain, id.Key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, sig, 0o644); err != nil {
		return fmt.Errorf("write the signature: %w", err)
	}
	return nil
}
