package loadgen

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// sleeper sleeps with a timerfd read through Go's network poller: an idle
// Go scheduler waits in epoll with millisecond resolution, so time.Sleep
// wakes up to a millisecond late, while a timerfd's expiry wakes the poller
// within tens of microseconds. That is the publisher's lag at low rates.
type sleeper struct {
	fd  int
	f   *os.File // the timerfd, registered with the poller
	buf [8]byte
}

func newSleeper() *sleeper {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return &sleeper{fd: -1}
	}
	return &sleeper{fd: fd, f: os.NewFile(uintptr(fd), "timerfd")}
}

// sleep waits for d (d > 0).
func (s *sleeper) sleep(d time.Duration) {
	if s.f == nil {
		time.Sleep(d)
		return
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(s.fd, 0, &spec, nil); err != nil {
		time.Sleep(d)
		return
	}
	s.f.Read(s.buf[:])
}

func (s *sleeper) close() {
	if s.f != nil {
		s.f.Close()
	}
}
