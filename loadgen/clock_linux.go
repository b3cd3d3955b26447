package loadgen

import "golang.org/x/sys/unix"

// monotonicNow reads CLOCK_MONOTONIC, the clock Go's runtime uses for its
// monotonic readings, so that times agree across processes.
func monotonicNow() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}
