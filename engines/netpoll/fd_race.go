//go:build linux && race

package netpoll

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// In race builds netpoll v0.7.2 finds the connection of a poller event by its
// descriptor number (poll_default_linux_race.go) rather than by pointer. An
// event still being handled for a connection that just closed can then hit a
// new connection that reused the number, and netpoll hangs the new connection
// up. Race builds therefore give netpoll descriptor numbers in rotation over
// a wide range, so that a freed number is not reused soon. Other builds look
// events up by pointer, skip freed connections, and take the lowest number.

// fdRotation counts the descriptors placed so far.
var fdRotation atomic.Uint32

// fdSpan is the range of numbers the rotation covers: half the descriptor
// limit, at most 8192.
var fdSpan = sync.OnceValue(func() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < 256 {
		return 0
	}
	return int(min(lim.Cur/2, 8192))
})

// fdFloor is the lowest number the next descriptor handed to netpoll may
// take; dupFD falls back to any number when none is free above it.
func fdFloor() int {
	span := fdSpan()
	if span == 0 {
		return 0
	}
	return 64 + int(fdRotation.Add(1))%(span-64)
}
