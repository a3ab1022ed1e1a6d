package loadgen

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadClock tells whether the thread's CPU clock can be read; if not,
// threadTime is the wall clock, for every reading alike.
var threadClock = func() bool {
	var ts unix.Timespec
	return unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) == nil
}()

// threadTime is the CPU time of the calling thread, which the caller has
// locked to its goroutine.
func threadTime() time.Duration {
	if !threadClock {
		return time.Duration(time.Now().UnixNano())
	}
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) // it worked at the start
	return time.Duration(ts.Nano())
}
