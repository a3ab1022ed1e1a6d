package loadgen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"
	"time"
)

// SpeedSamples is the number of signatures SignatureTime is usually
// asked for: about 5 ms on a quiet machine.
const SpeedSamples = 200

// SignatureTime is the median time of n P-256 signatures made one after
// the other in this process: a measure of this machine's speed at the
// moment. A shared machine's speed drifts during the day, by half and
// more, so a run reports it before and after, to tell its figures from
// the machine's drift.
func SignatureTime(n int) (time.Duration, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return 0, err
	}
	digest := sha256.Sum256([]byte("lanyard bench"))
	times := make([]time.Duration, max(n, 1))
	for i := range times {
		start := time.Now()
		if _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); err != nil {
			return 0, err
		}
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

// Speed is SignatureTime before and after a run.
type Speed struct{ Before, After time.Duration }

// String is the run report's line.
func (s Speed) String() string {
	us := func(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond)) }
	return fmt.Sprintf("a P-256 signature took %s before the run and %s after (median of %d, one core)", us(s.Before), us(s.After), SpeedSamples)
}
