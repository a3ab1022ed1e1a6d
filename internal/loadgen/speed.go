package loadgen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"
)

// SpeedSamples is the number of signatures SignatureTime is usually
// asked for: about 5 ms on a quiet machine.
const SpeedSamples = 200

// QuietSignature is what a P-256 signature took on the 2-core machine of
// docs/performance.md on its quiet days, the machine on which the aims
// for the server's CPU were set.
const QuietSignature = 21 * time.Microsecond

// SignatureTime is the median of n P-256 signatures made one after the
// other in this process: a measure of this machine's speed at the moment.
// A shared machine's speed drifts during the day, by half and more, so a
// run reports it, to tell its figures from the machine's drift. Each
// signature is timed by the CPU time of its thread where the system
// keeps one (Linux), so that a signature made while the machine is busy
// with the run does not count the time it waited for a core.
func SignatureTime(n int) (time.Duration, error) {
	sg, err := newSigner()
	if err != nil {
		return 0, err
	}
	return sg.median(n)
}

// signer makes the signatures that SignatureTime and a SpeedSampler time,
// with one key for all of them.
type signer struct {
	key    *ecdsa.PrivateKey
	digest [sha256.Size]byte
}

func newSigner() (*signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &signer{key: key, digest: sha256.Sum256([]byte("lanyard bench"))}, nil
}

// median is the median time of n signatures.
func (sg *signer) median(n int) (time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	times := make([]time.Duration, max(n, 1))
	for i := range times {
		start := threadTime()
		if _, err := ecdsa.SignASN1(rand.Reader, sg.key, sg.digest[:]); err != nil {
			return 0, err
		}
		times[i] = threadTime() - start
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

// Speed is SignatureTime before, during and after a run.
type Speed struct {
	Before, After time.Duration
	// During is the median of the samples a SpeedSampler took while the
	// run went on; Samples is their number, 0 if none was taken.
	During  time.Duration
	Samples int
}

// String is the run report's line.
func (s Speed) String() string {
	during := ""
	if s.Samples > 0 {
		during = fmt.Sprintf(", %s during it (median of %d samples of %d)", us(s.During), s.Samples, samplerSignatures)
	}
	return fmt.Sprintf("a P-256 signature took %s before the run%s and %s after (median of %d, CPU of one thread)", us(s.Before), during, us(s.After), SpeedSamples)
}

// Scaled is cpu, a figure measured while a signature took s.During, as
// it would be on the quiet machine (QuietSignature): an estimate, which
// assumes that the rest of the work slows as signatures do.
func (s Speed) Scaled(cpu time.Duration) (time.Duration, bool) {
	if s.Samples == 0 || s.During <= 0 {
		return 0, false
	}
	return time.Duration(float64(cpu) * float64(QuietSignature) / float64(s.During)), true
}

func us(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond)) }

// samplerSignatures is the signatures of one sample during a run: about
// 1 ms of one core, every samplerEvery.
const (
	samplerSignatures = 40
	samplerEvery      = 250 * time.Millisecond
)

// SpeedSampler measures the machine's speed while a run goes on: a
// sample of samplerSignatures at once and then every samplerEvery, under
// 1% of one core.
type SpeedSampler struct {
	stop    chan struct{}
	done    sync.WaitGroup
	mu      sync.Mutex
	samples []time.Duration
	err     error
}

// StartSpeedSampler starts taking samples until Stop.
func StartSpeedSampler() (*SpeedSampler, error) {
	sg, err := newSigner()
	if err != nil {
		return nil, err
	}
	s := &SpeedSampler{stop: make(chan struct{})}
	s.done.Go(func() {
		tick := time.NewTicker(samplerEvery)
		defer tick.Stop()
		for {
			d, err := sg.median(samplerSignatures)
			s.mu.Lock()
			if err != nil {
				s.err = err
			} else {
				s.samples = append(s.samples, d)
			}
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	})
	return s, nil
}

// Stop ends the sampling and returns the samples' median and number.
func (s *SpeedSampler) Stop() (time.Duration, int, error) {
	close(s.stop)
	s.done.Wait()
	if s.err != nil {
		return 0, 0, s.err
	}
	if len(s.samples) == 0 {
		return 0, 0, nil
	}
	slices.Sort(s.samples)
	return s.samples[len(s.samples)/2], len(s.samples), nil
}
