package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lanyard-id/lanyard"
)

// RememberDeviceRequest records a device-signed request of a mobile ID by
// the hash of its signature until it expires; one seen already gives
// ECONFLICT. Expired records are swept on the way.
func (db *DB) RememberDeviceRequest(ctx context.Context, mobileID int64, signatureHash []byte, expires time.Time) error {
	return db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, sweepDeviceRequests, encodeTime(tx.now)); err != nil {
			return fmt.Errorf("sweep device requests: %w", err)
		}
		_, err := tx.exec(ctx, `INSERT INTO device_requests (signature_hash, mobile_id, expires_at) VALUES (?, ?, ?)`,
			signatureHash, mobileID, encodeTime(expires))
		if isUniqueViolation(err) {
			return lanyard.Errorf(lanyard.ECONFLICT, "The request was sent before.")
		} else if err != nil {
			return fmt.Errorf("remember device request: %w", err)
		}
		return nil
	})
}
