//go:build !linux

package loadgen

import "time"

// threadTime is the wall clock where the system keeps no CPU time of a
// thread that Go can read without cgo.
func threadTime() time.Duration { return time.Duration(time.Now().UnixNano()) }
