// Package goroutine is PubSubX's baseline I/O engine: one goroutine per
// connection over the standard library's net.Conn and its netpoller. It runs
// everywhere Go runs and is the yardstick the epoll and netpoll engines are
// measured against.
//
// # Goroutines
//
// Serve runs the accept loop in the caller's goroutine. Each accepted
// connection gets one reader goroutine, which calls open, then OnData for each
// read, then OnClose; so callbacks of one connection never overlap and those of
// different connections run in parallel. A writer goroutine exists only while
// a connection has flushed bytes to send: Flush starts one when none is
// running, it writes until the flushed part of the queue is empty, and exits.
// An idle connection therefore costs one parked reader goroutine (whose stack
// the garbage collector shrinks back to the 2 KiB minimum), no writer, and,
// on Unix, no read buffer. open must return a non-nil Handler; if it returns
// nil the connection is closed without further callbacks.
//
// # Where bytes are copied
//
// Reads: the kernel copies into a read buffer of Options.ReadBufferSize taken
// from a pool, and OnData gets a slice of that buffer, no further copy. On
// Unix the buffer is taken only when the socket has data (the reader waits for
// readability without holding one) and is returned as soon as the socket is
// drained, so an idle connection holds no read buffer. Elsewhere a reader
// blocks in Read on a small buffer and switches to a pooled full-size one while
// reads fill the small one.
//
// Writes: Conn.Write copies p once, into the connection's outbound queue of
// pooled 4 KiB chunks, under a per-connection mutex; it never touches the
// socket. Flush seals the bytes queued so far for writing; the writer takes
// the chunks holding them and hands them to the kernel with one writev
// (net.Buffers.WriteTo) per batch, however many Writes and Flushes made the
// batch, and returns the chunks to the pool.
// Bytes count against Options.MaxOutboundBytes from Write until the writev
// that sends them returns.
//
// # Lifetimes
//
// The slice given to OnData is valid until OnData returns. Write's argument may
// be reused as soon as Write returns. Close, an error from OnData, a read or
// write error, or Shutdown ends a connection: from then on Write and Flush
// return engines.ErrClosed; the reader flushes what is queued (bounded by a
// write deadline of a few seconds, or by Shutdown's context), closes the
// socket, and calls OnClose last: with nil after Close or Shutdown, io.EOF
// when the peer closed, or the read, write or OnData error otherwise.
package goroutine

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pubsubx/pubsubx/engines"
)

// Name is the name under which the registry lists this engine.
const Name = "goroutine"

// defaultCloseFlushTimeout bounds how long a connection closed outside
// Shutdown keeps trying to flush its queue to a peer that does not read.
const defaultCloseFlushTimeout = 5 * time.Second

// Errors of this package.
var errServeTwice = errors.New("goroutine: Serve called twice")

// aLongTimeAgo is a deadline in the past: setting it wakes a blocked read or
// write at once.
var aLongTimeAgo = time.Unix(1, 0)

// NewEngine returns a goroutine-per-connection engine configured by o (zero
// fields take the defaults of engines.Options; Loops is ignored). It never
// fails.
func NewEngine(o engines.Options) (engines.Engine, error) {
	return newEngine(o, false), nil
}

// engine implements engines.Engine.
type engine struct {
	opts          engines.Options
	readBuffers   bufferPool
	portableReads bool // use the blocking reader even where raw reads work

	closeFlushTimeout time.Duration // see defaultCloseFlushTimeout; tests shorten it

	mu     sync.Mutex
	ln     net.Listener
	served bool
	conns  map[*conn]struct{}
	done   chan struct{} // closed by the first Shutdown
	live   sync.WaitGroup

	flushBy atomic.Int64 // Shutdown's deadline in Unix nanoseconds; 0 means none
}

func newEngine(o engines.Options, portableReads bool) *engine {
	o = o.WithDefaults()
	return &engine{
		opts:              o,
		readBuffers:       bufferPool{size: o.ReadBufferSize},
		portableReads:     portableReads,
		closeFlushTimeout: defaultCloseFlushTimeout,
		conns:             make(map[*conn]struct{}),
		done:              make(chan struct{}),
	}
}

// Serve accepts connections until Shutdown or a listener error; see
// engines.Engine. It closes ln when it returns.
func (e *engine) Serve(ln net.Listener, open func(engines.Conn) engines.Handler) error {
	e.mu.Lock()
	if e.served {
		e.mu.Unlock()
		return errServeTwice
	}
	e.served = true
	e.ln = ln
	e.mu.Unlock()
	defer ln.Close()
	if e.isShutDown() {
		return engines.ErrServerClosed
	}

	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if e.isShutDown() {
				return engines.ErrServerClosed
			}
			if !isTemporary(err) {
				return err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(delay):
			case <-e.done:
				return engines.ErrServerClosed
			}
			continue
		}
		delay = 0
		e.start(nc, open)
	}
}

// start registers an accepted connection and runs its reader goroutine.
func (e *engine) start(nc net.Conn, open func(engines.Conn) engines.Handler) {
	c := newConn(e, nc)
	e.mu.Lock()
	if e.isShutDown() {
		e.mu.Unlock()
		nc.Close()
		return
	}
	e.conns[c] = struct{}{}
	e.live.Add(1)
	e.mu.Unlock()
	go c.serve(open)
}

// forget is called by a connection's goroutine when it has finished.
func (e *engine) forget(c *conn) {
	e.mu.Lock()
	delete(e.conns, c)
	e.mu.Unlock()
	e.live.Done()
}

func (e *engine) isShutDown() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// Shutdown stops accepting, closes every connection after flushing what it has
// queued, and waits for their OnClose calls; see engines.Engine. When ctx ends
// first, the remaining flushes are abandoned (their connections close at once)
// and Shutdown returns ctx.Err() without waiting for them.
func (e *engine) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if !e.isShutDown() {
		if d, ok := ctx.Deadline(); ok {
			e.flushBy.Store(d.UnixNano())
		}
		close(e.done)
	}
	ln := e.ln
	conns := e.snapshot()
	e.mu.Unlock()

	if ln != nil {
		ln.Close()
	}
	for _, c := range conns {
		c.Close()
	}
	finished := make(chan struct{})
	go func() {
		e.live.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		e.mu.Lock()
		conns = e.snapshot()
		e.mu.Unlock()
		for _, c := range conns {
			c.abortFlush()
		}
		return ctx.Err()
	}
}

// snapshot lists the live connections; e.mu must be held.
func (e *engine) snapshot() []*conn {
	conns := make([]*conn, 0, len(e.conns))
	for c := range e.conns {
		conns = append(conns, c)
	}
	return conns
}

// flushDeadline is the write deadline of a connection's final flush: during
// Shutdown its context's deadline (none if it has none: Shutdown aborts the
// flushes when the context ends), otherwise e.closeFlushTimeout from now.
func (e *engine) flushDeadline() time.Time {
	if e.isShutDown() {
		if by := e.flushBy.Load(); by != 0 {
			return time.Unix(0, by)
		}
		return time.Time{}
	}
	return time.Now().Add(e.closeFlushTimeout)
}

// isTemporary reports whether an Accept error may pass (a timeout, or a lack
// of file descriptors or memory), so that Serve should back off and retry.
func isTemporary(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// bufferPool recycles read buffers of one size. Buffers travel as *[]byte so
// that Put does not allocate.
type bufferPool struct {
	size int
	pool sync.Pool
}

func (p *bufferPool) get() *[]byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, p.size)
	return &b
}

func (p *bufferPool) put(b *[]byte) { p.pool.Put(b) }
