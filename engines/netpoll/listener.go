//go:build linux

package netpoll

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	cloudwego "github.com/cloudwego/netpoll"
	"golang.org/x/sys/unix"
)

// ErrNoFD is returned by Serve for a listener whose connections have no file
// descriptor (they do not implement syscall.Conn, as *net.TCPConn does).
var ErrNoFD = errors.New("netpoll: accepted connection has no file descriptor")

// errListenerFailed wraps the error that stopped the caller's listener. Its
// text contains "closed", which netpoll's server takes as a reason to quit.
var errListenerFailed = errors.New("netpoll: listener closed or failed")

// maxPendingAccepts bounds the sockets accepted and not yet taken by netpoll;
// beyond it the acceptor waits, and the kernel's backlog holds the rest.
const maxPendingAccepts = 128

// listener adapts the net.Listener given to Serve to cloudwego.Listener.
//
// netpoll's own adapter (ConvertListener) watches a duplicate of the
// listener's descriptor, which it gets from File().Fd() (flipping the shared
// socket to blocking mode until it resets it) and closes twice in Close (once
// with syscall.Close, once through the *os.File: the second close can hit an
// unrelated descriptor that reused the number); and since it watches a
// duplicate, it never notices that the caller closed the listener.
//
// This adapter accepts with the listener's own Accept on a goroutine (the
// acceptor, which sees a close at once), turns each connection into a
// close-on-exec duplicate of its descriptor (Go already made the socket
// non-blocking with TCP_NODELAY), queues it, and signals an eventfd. netpoll
// watches the eventfd as its listener descriptor and calls Accept, which pops
// the queue. When the caller's listener fails, Accept returns that error and
// netpoll's Serve returns. Accept runs on a poller goroutine.
//
// netpoll's server calls Fd once under its own lock before registering the
// descriptor; registered is closed then, which tells Shutdown that
// EventLoop.Shutdown will find the server (see Engine.stopLoop).
type listener struct {
	ln         net.Listener // the caller's listener, closed by Close
	efd        int          // eventfd: readable while pending may be non-empty
	reject     func() bool  // true once the engine shuts down: accepted sockets are closed at once
	registered chan struct{}
	fdOnce     sync.Once

	mu      sync.Mutex
	room    sync.Cond        // signalled when pending shrinks or the listener closes
	pending []acceptedSocket // accepted, not yet taken by netpoll, oldest first
	closed  bool             // Close ran
	failure error            // why the caller's listener stopped, if it did before Close
}

var _ cloudwego.Listener = (*listener)(nil)

// newListener wraps ln and starts its acceptor.
func newListener(ln net.Listener, reject func() bool) (*listener, error) {
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("eventfd", err)
	}
	if floor := fdFloor(); floor > 0 { // race builds: see fd_race.go
		if moved, err := dupFD(uintptr(efd), floor); err == nil {
			unix.Close(efd)
			efd = moved
		}
	}
	l := &listener{ln: ln, efd: efd, reject: reject, registered: make(chan struct{})}
	l.room.L = &l.mu
	go l.acceptLoop()
	return l, nil
}

// Fd returns the descriptor netpoll registers with its poller.
func (l *listener) Fd() int {
	l.fdOnce.Do(func() { close(l.registered) })
	return l.efd
}

// Accept gives netpoll the oldest pending socket. It never blocks: with none
// pending it clears the eventfd and returns nil, nil, as netpoll expects.
// After Close it does nothing: a poller may still handle an event it got
// before netpoll detached the eventfd, whose number may be reused by then.
func (l *listener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, nil
	}
	if len(l.pending) == 0 {
		if l.failure != nil {
			return nil, l.failure
		}
		// A push after this read writes the eventfd again, so no wake-up is
		// lost; a push before it is in pending.
		var buf [8]byte
		unix.Read(l.efd, buf[:])
		return nil, nil
	}
	s := l.pending[0]
	n := copy(l.pending, l.pending[1:])
	l.pending = l.pending[:n]
	l.room.Signal()
	return &s, nil
}

// acceptLoop is the acceptor: it runs until the caller's listener closes.
func (l *listener) acceptLoop() {
	var delay time.Duration
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if isResourceShortage(err) { // EMFILE and the like: back off as net/http does
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			l.fail(err)
			return
		}
		delay = 0
		s, err := detach(c)
		if err != nil {
			if errors.Is(err, ErrNoFD) {
				l.fail(err)
				return
			}
			continue // out of descriptors for the duplicate: that client is dropped
		}
		if !l.push(s) {
			unix.Close(s.fd)
		}
	}
}

// push queues s for netpoll, waiting while the queue is full. It reports
// false if s was refused (shutdown began or the listener closed).
func (l *listener) push(s acceptedSocket) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.pending) >= maxPendingAccepts && !l.closed {
		l.room.Wait()
	}
	if l.closed || l.reject() {
		return false
	}
	l.pending = append(l.pending, s)
	l.signal()
	return true
}

// fail records why the caller's listener stopped and wakes netpoll, whose
// next Accept returns it. The caller's own Close is not a failure.
func (l *listener) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.failure = fmt.Errorf("%w: %v", errListenerFailed, err)
	l.signal()
}

// signal makes the eventfd readable. The caller holds mu, so the eventfd is
// open.
func (l *listener) signal() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	unix.Write(l.efd, one[:])
}

// failed returns why the caller's listener stopped, or nil.
func (l *listener) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failure
}

// Close closes the caller's listener, which ends the acceptor, the eventfd
// (netpoll detached it first) and the sockets netpoll did not take. It runs
// once; later calls return nil.
func (l *listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	for _, s := range l.pending {
		unix.Close(s.fd)
	}
	l.pending = nil
	l.room.Broadcast()
	err := wrapSyscall("close", unix.Close(l.efd))
	failed := l.failure != nil
	l.mu.Unlock()
	if cerr := l.ln.Close(); err == nil && !failed {
		err = cerr
	}
	return err
}

// Addr is the caller's listener address.
func (l *listener) Addr() net.Addr { return l.ln.Addr() }

// isResourceShortage reports an accept error that passes once descriptors or
// memory are freed.
func isResourceShortage(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// detach turns c into an acceptedSocket: a close-on-exec duplicate of its
// descriptor, taken through SyscallConn (never (*os.File).Fd, which would
// make the socket blocking), after which c is closed. The duplicate shares
// the socket and its options.
func detach(c net.Conn) (acceptedSocket, error) {
	defer c.Close()
	sc, ok := c.(syscall.Conn)
	if !ok {
		return acceptedSocket{}, ErrNoFD
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return acceptedSocket{}, err
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) { fd, dupErr = dupFD(s, fdFloor()) }); err != nil {
		return acceptedSocket{}, err
	}
	if dupErr != nil {
		return acceptedSocket{}, dupErr
	}
	return acceptedSocket{fd: fd, local: c.LocalAddr(), remote: c.RemoteAddr()}, nil
}

// dupFD duplicates fd, close-on-exec, to the lowest free number not below
// floor, or to any number if none is free above floor.
func dupFD(fd uintptr, floor int) (int, error) {
	nfd, err := unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, floor)
	if err != nil && floor > 0 {
		nfd, err = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}
	if err != nil {
		return -1, os.NewSyscallError("fcntl", err)
	}
	return nfd, nil
}

// acceptedSocket is an accepted socket handed to netpoll, which copies its
// descriptor and addresses into its own connection and owns it from then on
// (it closes it when the connection closes). netpoll v0.7.2 calls only Fd,
// LocalAddr and RemoteAddr; the rest of net.Conn is implemented plainly.
type acceptedSocket struct {
	fd            int
	local, remote net.Addr
}

var _ cloudwego.Conn = (*acceptedSocket)(nil)

func (s *acceptedSocket) Fd() int              { return s.fd }
func (s *acceptedSocket) LocalAddr() net.Addr  { return s.local }
func (s *acceptedSocket) RemoteAddr() net.Addr { return s.remote }

func (s *acceptedSocket) Read(p []byte) (int, error) {
	n, err := unix.Read(s.fd, p)
	return max(n, 0), wrapSyscall("read", err)
}

func (s *acceptedSocket) Write(p []byte) (int, error) {
	n, err := unix.Write(s.fd, p)
	return max(n, 0), wrapSyscall("write", err)
}

func (s *acceptedSocket) Close() error { return wrapSyscall("close", unix.Close(s.fd)) }

func (s *acceptedSocket) SetDeadline(time.Time) error      { return errNoDeadlines }
func (s *acceptedSocket) SetReadDeadline(time.Time) error  { return errNoDeadlines }
func (s *acceptedSocket) SetWriteDeadline(time.Time) error { return errNoDeadlines }

var errNoDeadlines = errors.New("netpoll: accepted socket has no deadlines")

func wrapSyscall(name string, err error) error {
	if err == nil {
		return nil
	}
	return os.NewSyscallError(name, err)
}
