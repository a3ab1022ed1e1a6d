package pki

import (
	"context"
	"crypto"

	"github.com/lanyard-id/lanyard"
)

// AuditKeyLabel labels the key that signs the audit log's checkpoints. It
// lives beside the CA keys, in the same backend: sealed under the master
// key in the database, or inside the PKCS#11 token.
const AuditKeyLabel = "lanyard-audit-v1"

// AuditSigner returns the audit key, making it on first use. When another
// instance makes it at the same moment, the one that won is loaded.
func (ca *CA) AuditSigner(ctx context.Context) (crypto.Signer, error) {
	b := ca.cfg.Backend
	key, err := b.LoadKey(ctx, AuditKeyLabel)
	if lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		return key, err
	}
	key, err = b.CreateKey(ctx, AuditKeyLabel, ECDSAP256)
	if lanyard.ErrorCode(err) == lanyard.ECONFLICT {
		return b.LoadKey(ctx, AuditKeyLabel)
	}
	return key, err
}
