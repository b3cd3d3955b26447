//go:build linux

package netpoll

import (
	"io"
	"net"
	"sync"
	"time"

	cloudwego "github.com/cloudwego/netpoll"

	"github.com/pubsubx/pubsubx/engines"
)

// conn is the engines.Conn of one netpoll connection.
//
// Two locks, never held together: mu guards the connection's state and its
// outbound queue and is held only briefly, by any goroutine; writeMu is held
// by the flusher while it uses netpoll's Writer, and by netpoll's close
// callback to mark the Writer dead, so that the Writer is never touched once
// netpoll has freed its buffers.
type conn struct {
	eng    *Engine
	np     cloudwego.Connection
	remote net.Addr
	// flush is c.flushLoop bound once: starting a flusher with `go c.flush()`
	// then allocates nothing.
	flush func()

	mu          sync.Mutex
	handler     engines.Handler // nil for a connection refused at open
	out         outbound
	ready       bool        // netpoll registered the connection (OnConnect ran): its Writer may be used
	flushing    bool        // a flusher goroutine runs; only it uses the Writer
	flushWanted bool        // Flush came before ready
	closing     bool        // Close was called or the connection failed: Conn methods return ErrClosed
	closed      bool        // netpoll's close callback ran
	closeErr    error       // OnClose's argument when closing was set locally
	abortTimer  *time.Timer // forces the close if the final flush takes too long

	writeMu    sync.Mutex
	writerDead bool // netpoll's close callback ran: its Writer's buffers are gone
}

var _ engines.Conn = (*conn)(nil)

func newConn(e *Engine, np cloudwego.Connection) *conn {
	c := &conn{eng: e, np: np, remote: np.RemoteAddr()}
	c.flush = c.flushLoop
	return c
}

// Write copies p to the outbound queue. It never blocks on the network.
func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closing:
		return 0, engines.ErrClosed
	case c.out.size()+len(p) > c.eng.settings.MaxOutboundBytes:
		return 0, engines.ErrOutboundFull
	}
	c.out.Append(p)
	return len(p), nil
}

// Flush makes sure a flusher will hand the queued bytes to netpoll. It never
// blocks: while a flusher runs, it picks the new bytes up before it exits.
func (c *conn) Flush() error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return engines.ErrClosed
	}
	start := c.claimFlusher()
	c.mu.Unlock()
	if start {
		go c.flush()
	}
	return nil
}

// Close stops the connection: Conn methods return ErrClosed from now on, no
// OnData follows, and the flusher hands what is queued to netpoll, then closes
// the netpoll connection. If that takes longer than Settings.CloseTimeout (a
// peer that does not read), the connection is closed without waiting.
func (c *conn) Close() error { return c.closeWith(nil, true) }

// RemoteAddr is the peer's address; it stays valid after Close.
func (c *conn) RemoteAddr() net.Addr { return c.remote }

// claimFlusher reports whether the caller must start a flusher: the
// connection is registered, none runs, and there is something to do. The
// caller holds mu.
func (c *conn) claimFlusher() bool {
	if !c.ready {
		c.flushWanted = true
		return false
	}
	if c.flushing || (c.out.Len() == 0 && !c.closing) {
		return false
	}
	c.flushing = true
	return true
}

// closeWith starts a graceful close whose OnClose argument is err. With
// bounded, the close is forced after Settings.CloseTimeout; Shutdown instead
// bounds it by its context. It returns ErrClosed if the connection was
// closing already (the first reason stays).
func (c *conn) closeWith(err error, bounded bool) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return engines.ErrClosed
	}
	c.closing, c.closeErr = true, err
	if bounded {
		c.abortTimer = time.AfterFunc(c.eng.settings.CloseTimeout, c.abort)
	}
	start := c.claimFlusher()
	c.mu.Unlock()
	if start {
		go c.flush()
	}
	return nil
}

// abort closes the netpoll connection now, dropping whatever is queued. A
// connection not registered yet is closed by OnConnect instead, which sees
// closing; one closed already is left alone.
func (c *conn) abort() {
	c.mu.Lock()
	c.closing = true
	now := c.ready && !c.closed
	c.mu.Unlock()
	if now {
		// netpoll's Close is idempotent (a CAS on its closing state); if the
		// flusher is inside netpoll's Flush, Close wakes it with an error.
		c.np.Close()
	}
}

// receiver returns the Handler that may get input now, or nil once the
// connection is closing: its input is then discarded.
func (c *conn) receiver() engines.Handler {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return nil
	}
	return c.handler
}

// onNetpollClose is the connection's netpoll CloseCallback. netpoll runs it
// once, after the connection's last OnRequest returned and before netpoll
// frees the connection's buffers, on whichever goroutine closed it: a poller
// (the peer closed), the OnRequest task, a flusher, or Shutdown. It marks the
// Writer dead (waiting for a flusher inside netpoll's Writer to come out;
// netpoll wakes a blocked Flush with an error before it runs close
// callbacks), marks the conn closed, and hands OnClose to a goroutine of its
// own so that a poller never waits for the core.
func (c *conn) onNetpollClose(cloudwego.Connection) error {
	c.writeMu.Lock()
	c.writerDead = true
	c.writeMu.Unlock()

	c.mu.Lock()
	err := io.EOF // netpoll tells nothing more of a close it saw first
	if c.closing {
		err = c.closeErr
	}
	c.closing, c.closed = true, true
	c.out.Release() // bytes in flight stay counted until the flusher reports them
	if c.abortTimer != nil {
		c.abortTimer.Stop()
	}
	h := c.handler
	c.mu.Unlock()

	go c.eng.finish(c, h, err)
	return nil
}
