package main

import (
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

// A server started with LANYARD_CPU_PROFILE=FILE profiles its CPU from
// SIGUSR1 to SIGUSR2 into FILE, so that a measurement can leave out the
// start and the logins before it (docs/perf/mobile-ids.sh does this with
// PROFILE set). Without the variable, the signals keep their default
// meaning.
func init() {
	path := os.Getenv("LANYARD_CPU_PROFILE")
	if path == "" {
		return
	}
	c := make(chan os.Signal, 2)
	signal.Notify(c, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		var f *os.File
		for s := range c {
			switch {
			case s == syscall.SIGUSR1 && f == nil:
				var err error
				if f, err = os.Create(path); err != nil {
					f = nil
					continue
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					f.Close()
					f = nil
				}
			case s == syscall.SIGUSR2 && f != nil:
				pprof.StopCPUProfile()
				f.Close()
				f = nil
			}
		}
	}()
}
