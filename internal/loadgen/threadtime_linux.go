package loadgen

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadClock tells whether the thread's CPU clock can be read; if not,
// threadTime falls back to the wall clock.
var threadClock = func() bool {
	var ts unix.Timespec
	return unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) == nil
}()

// threadTime is the CPU time of the calling thread, which the caller has
// locked to its goroutine.
func threadTime() time.Duration {
	var ts unix.Timespec
	if !threadClock || unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ts.Nano())
}
