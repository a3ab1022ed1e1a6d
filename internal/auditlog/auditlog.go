// Package auditlog makes Lanyard's audit log prove itself: each event's
// hash covers the hash of the event before it and every field of its own,
// so an event changed, deleted or moved breaks the chain at that event;
// checkpoints signed with the audit key vouch for the chain up to an
// event, so the chain cannot be rewritten whole by someone without the key.
package auditlog

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/lanyard-id/lanyard"
)

// Hash returns the hash of e after the event whose hash is prev ("" for the
// first event): SHA-256 over the previous hash and the event's number,
// time (Unix microseconds) and text fields, each text field preceded by
// its length, so no two events encode alike.
func Hash(prev string, e *lanyard.AuditEvent) string {
	h := sha256.New()
	p, err := hex.DecodeString(prev)
	if err != nil || len(p) != sha256.Size {
		p = make([]byte, sha256.Size)
	}
	h.Write(p)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(e.Seq))
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], uint64(e.Time.UnixMicro()))
	h.Write(b[:])
	for _, f := range []string{e.Actor, e.Addr, e.Action, e.Subject, e.Detail} {
		binary.BigEndian.PutUint32(b[:4], uint32(len(f)))
		h.Write(b[:4])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkpointMessage is what a checkpoint's signature covers.
func checkpointMessage(seq int64, hash string, at time.Time) []byte {
	return []byte("lanyard audit checkpoint v1\n" + strconv.FormatInt(seq, 10) + "\n" + hash + "\n" + strconv.FormatInt(at.UnixMicro(), 10) + "\n")
}

// Sign returns a checkpoint of the chain up to the event seq, whose hash
// is hash, signed by key (ECDSA with SHA-256, in software or in a token).
func Sign(key crypto.Signer, seq int64, hash string, at time.Time) (*lanyard.AuditCheckpoint, error) {
	at = time.UnixMicro(at.UnixMicro()).UTC()
	digest := sha256.Sum256(checkpointMessage(seq, hash, at))
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("sign audit checkpoint: %w", err)
	}
	return &lanyard.AuditCheckpoint{Seq: seq, Hash: hash, Time: at, Signature: sig}, nil
}

// checkSignature reports whether pub signed c.
func checkSignature(pub crypto.PublicKey, c *lanyard.AuditCheckpoint) bool {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return false
	}
	digest := sha256.Sum256(checkpointMessage(c.Seq, c.Hash, c.Time))
	return ecdsa.VerifyASN1(k, digest[:], c.Signature)
}
