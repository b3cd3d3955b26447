//go:build linux

package epoll

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pubsubx/pubsubx/engines"
)

// Name is the engine's name in the registry and for -engine.
const Name = "epoll"

// Errors returned by Serve.
var (
	// ErrServeTwice is returned by a second call to Serve.
	ErrServeTwice = errors.New("epoll: Serve called twice")
	// ErrNilOpen is returned by Serve when open is nil.
	ErrNilOpen = errors.New("epoll: nil open function")
	// ErrNoDescriptor is returned by Serve when the listener yields
	// connections that do not expose a socket (they do not implement
	// syscall.Conn), such as TLS connections.
	ErrNoDescriptor = errors.New("epoll: accepted connection has no socket descriptor")
)

// engine implements engines.Engine with event loops on epoll.
type engine struct {
	opts  engines.Options // with defaults; Loops is the real count
	loops []*loop
	open  func(engines.Conn) engines.Handler // set by Serve before the loops start
	next  int                                // acceptor's round-robin position

	mu       sync.Mutex
	serving  bool          // Serve started the loops
	shutdown bool          // Shutdown was called
	ln       net.Listener  // the listener Serve accepts from
	quit     chan struct{} // closed by Shutdown

	running   atomic.Int32  // loops not yet exited
	stopped   chan struct{} // closed when every loop has exited
	forceOnce sync.Once
	forceErr  error // OnClose error of conns closed by an expired Shutdown
}

var _ engines.Engine = (*engine)(nil)

// NewEngine creates the engine's event loops, each with its epoll instance
// and eventfd; their goroutines start in Serve. Zero options take the
// defaults of engines.Options, and Loops 0 means runtime.GOMAXPROCS(0). It
// fails when epoll or eventfd cannot be created. Call Shutdown to release
// the descriptors even if Serve is never called.
func NewEngine(o engines.Options) (engines.Engine, error) {
	o = o.WithDefaults()
	if o.Loops <= 0 {
		o.Loops = runtime.GOMAXPROCS(0)
	}
	e := &engine{
		opts:    o,
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	for i := range o.Loops {
		l, err := newLoop(e, i)
		if err != nil {
			for _, l := range e.loops {
				_ = l.poller.close()
			}
			return nil, err
		}
		e.loops = append(e.loops, l)
	}
	return e, nil
}

// Serve starts the event loops and accepts connections from ln until
// Shutdown is called or ln fails. Each accepted connection's socket moves
// into the engine and the net.Conn is closed; open is called on the loop
// that owns the connection. Serve closes ln when it returns; it returns
// ErrServerClosed after Shutdown.
func (e *engine) Serve(ln net.Listener, open func(engines.Conn) engines.Handler) error {
	defer ln.Close()
	if open == nil {
		return ErrNilOpen
	}
	e.mu.Lock()
	switch {
	case e.shutdown:
		e.mu.Unlock()
		return engines.ErrServerClosed
	case e.serving:
		e.mu.Unlock()
		return ErrServeTwice
	}
	e.serving = true
	e.ln = ln
	e.open = open
	e.running.Store(int32(len(e.loops)))
	for _, l := range e.loops {
		go l.run()
	}
	e.mu.Unlock()
	return e.accept(ln)
}

// accept is Serve's loop. Accepting through ln keeps the listener owned by
// the Go runtime and its caller; the engine never holds its descriptor.
func (e *engine) accept(ln net.Listener) error {
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err == nil {
			err = e.adopt(nc)
			if err == nil {
				backoff = 0
				continue
			}
			if errors.Is(err, ErrNoDescriptor) {
				return err
			}
		}
		select {
		case <-e.quit:
			return engines.ErrServerClosed
		default:
		}
		if !temporary(err) {
			if nc != nil {
				continue // this connection failed; the listener is fine
			}
			return err
		}
		// Out of descriptors or memory: wait and retry, like net/http.
		backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-e.quit:
			t.Stop()
			return engines.ErrServerClosed
		}
	}
}

// temporary reports whether an accept error is worth a retry.
func temporary(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, errno := range []syscall.Errno{unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM, unix.ECONNABORTED, unix.EINTR} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// adopt moves nc's socket into the engine and hands it to a loop.
func (e *engine) adopt(nc net.Conn) error {
	var remote netip.AddrPort
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		remote = a.AddrPort()
	}
	fd, err := takeSocket(nc)
	if err != nil {
		return err
	}
	l := e.pickLoop()
	c := &conn{loop: l, remote: remote, fd: fd}
	c.queued.Store(true)
	l.load.Add(1)
	if !l.enqueue(c) { // the loop has exited: Shutdown
		_ = unix.Close(fd)
		l.load.Add(-1)
	}
	return nil
}

// takeSocket duplicates nc's socket descriptor (close-on-exec,
// non-blocking, TCP_NODELAY) and closes nc. The duplicate is never
// registered with Go's poller; unlike (*os.File).Fd it leaves the socket
// non-blocking, and it is set non-blocking again to be sure.
func takeSocket(nc net.Conn) (int, error) {
	defer nc.Close()
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1, ErrNoDescriptor
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) {
		fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, os.NewSyscallError("fcntl F_DUPFD_CLOEXEC", dupErr)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return -1, os.NewSyscallError("fcntl O_NONBLOCK", err)
	}
	err = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if err != nil && err != unix.EOPNOTSUPP && err != unix.ENOPROTOOPT {
		_ = unix.Close(fd)
		return -1, os.NewSyscallError("setsockopt TCP_NODELAY", err)
	}
	return fd, nil
}

// pickLoop returns the loop with the fewest connections, starting the
// search at a rotating position so ties are spread round-robin. Only the
// acceptor calls it.
func (e *engine) pickLoop() *loop {
	n := len(e.loops)
	best := e.loops[e.next%n]
	e.next++
	for _, l := range e.loops {
		if l.load.Load() < best.load.Load() {
			best = l
		}
	}
	return best
}

// Shutdown closes the listener, stops reading every connection, writes out
// what each has queued as its peer takes it, and closes each one as its
// queue empties, with OnClose(nil). When ctx ends first, the connections
// left are closed at once with OnClose(ctx.Err()), and Shutdown returns
// ctx.Err() without waiting for those callbacks. Otherwise it returns nil
// once every loop has closed its connections, called their OnClose and
// released its descriptors. Safe to call more than once and from any
// goroutine.
func (e *engine) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if !e.shutdown {
		e.shutdown = true
		close(e.quit)
		if e.ln != nil {
			_ = e.ln.Close()
		}
		if e.serving {
			for _, l := range e.loops {
				l.stop.CompareAndSwap(stopNone, stopDrain)
				l.notify()
			}
		} else {
			for _, l := range e.loops {
				_ = l.poller.close()
			}
			close(e.stopped)
		}
	}
	e.mu.Unlock()
	select {
	case <-e.stopped:
		return nil
	case <-ctx.Done():
		e.forceOnce.Do(func() {
			e.forceErr = ctx.Err()
			for _, l := range e.loops {
				l.stop.Store(stopForce)
				l.notify()
			}
		})
		return ctx.Err()
	}
}

// loopExited is called by each loop as it exits.
func (e *engine) loopExited() {
	if e.running.Add(-1) == 0 {
		close(e.stopped)
	}
}
