//go:build linux

package epoll

import (
	"encoding/binary"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Interest sets registered with epoll. All are level-triggered.
const (
	// readEvents is an open connection's interest while nothing waits for
	// the socket to drain.
	readEvents = unix.EPOLLIN | unix.EPOLLRDHUP
	// readWriteEvents adds EPOLLOUT while a partial write waits for room.
	readWriteEvents = readEvents | unix.EPOLLOUT
	// drainEvents is a connection's interest during Shutdown: it is no
	// longer read, only written until its queue drains. EPOLLERR and
	// EPOLLHUP are reported whatever the mask.
	drainEvents = unix.EPOLLOUT
	// inputEvents are the events that make the loop try a read: readable,
	// peer hang-up or a pending socket error, which read reports.
	inputEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR
)

// wakeValue is the 8-byte native-endian 1 written to an eventfd.
var wakeValue = func() (b [8]byte) {
	binary.NativeEndian.PutUint64(b[:], 1)
	return b
}()

// poller is one loop's epoll instance and the eventfd other goroutines write
// to wake it. Both descriptors are close-on-exec. Only the owning loop calls
// its methods, except wake, which the loop serialises under its pending lock
// so that it never runs after close.
type poller struct {
	epfd    int
	eventfd int
	drained [8]byte // scratch for reading the eventfd counter
}

// newPoller creates the epoll instance and the eventfd, and registers the
// eventfd for input.
func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	p := &poller{epfd: epfd, eventfd: efd}
	if err := p.add(efd, unix.EPOLLIN); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *poller) ctl(op, fd int, events uint32, name string) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	if err := unix.EpollCtl(p.epfd, op, fd, &ev); err != nil {
		return os.NewSyscallError(name, err)
	}
	return nil
}

// add registers fd with the given interest set.
func (p *poller) add(fd int, events uint32) error {
	return p.ctl(unix.EPOLL_CTL_ADD, fd, events, "epoll_ctl add")
}

// modify replaces fd's interest set.
func (p *poller) modify(fd int, events uint32) error {
	return p.ctl(unix.EPOLL_CTL_MOD, fd, events, "epoll_ctl mod")
}

// remove unregisters fd; call it before closing fd.
func (p *poller) remove(fd int) error {
	return p.ctl(unix.EPOLL_CTL_DEL, fd, 0, "epoll_ctl del")
}

// wait fills events and returns how many are ready, blocking for at most
// msec milliseconds (-1: until something happens). An interrupted wait
// returns 0 events and no error.
func (p *poller) wait(events []unix.EpollEvent, msec int) (int, error) {
	n, err := unix.EpollWait(p.epfd, events, msec)
	if err == unix.EINTR {
		return 0, nil
	}
	if err != nil {
		return 0, os.NewSyscallError("epoll_wait", err)
	}
	return n, nil
}

// wake makes the eventfd readable. EAGAIN means the counter is saturated,
// so it is readable already.
func (p *poller) wake() error {
	_, err := unix.Write(p.eventfd, wakeValue[:])
	if err != nil && err != unix.EAGAIN {
		return os.NewSyscallError("write eventfd", err)
	}
	return nil
}

// drainWake resets the eventfd counter after the loop saw it readable.
func (p *poller) drainWake() {
	_, _ = unix.Read(p.eventfd, p.drained[:])
}

// close releases both descriptors.
func (p *poller) close() error {
	err1 := unix.Close(p.eventfd)
	err2 := unix.Close(p.epfd)
	if err1 != nil {
		return os.NewSyscallError("close eventfd", err1)
	}
	if err2 != nil {
		return os.NewSyscallError("close epoll", err2)
	}
	return nil
}

// writev writes iov to fd with one writev(2) call. Unlike unix.Writev it
// takes a caller-owned iovec array, so it never allocates. n is 0 whenever
// err is non-nil.
func writev(fd int, iov []unix.Iovec) (n int, err error) {
	if len(iov) == 0 {
		return 0, nil
	}
	r, _, errno := unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}
