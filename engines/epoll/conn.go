//go:build linux

package epoll

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/internal/outq"
)

// connState is where a connection is in its life; only the owning loop reads
// or writes it.
type connState uint8

const (
	// stateNew: accepted and handed to the loop, open not yet called, not
	// registered with epoll.
	stateNew connState = iota
	// stateOpen: registered and read.
	stateOpen
	// stateDraining: Shutdown stopped reading it; it is written until its
	// queue drains, then closed.
	stateDraining
	// stateDone: the descriptor is closed and OnClose has been called.
	stateDone
)

// conn is one connection, owned by one loop. It implements engines.Conn.
//
// Fields marked "loop" are touched only by the owning loop's goroutine; the
// descriptor in particular is used, and closed, only there, so no other
// goroutine can ever write to a reused descriptor number. Writers on any
// goroutine only append to out under mu and queue the conn on its loop.
// The loop gathers out under mu and writes it with the mutex released;
// writers meanwhile only fill the queue past the gathered bytes (package
// outq's in-place rule), and only the loop consumes or releases it.
type conn struct {
	loop   *loop
	remote netip.AddrPort // kept compact: an idle connection must cost little

	fd         int             // loop; -1 once closed
	handler    engines.Handler // loop; set by open
	state      connState       // loop
	writeArmed bool            // loop: EPOLLOUT is in the interest set

	// closed is set once, by Close, by Shutdown or by the loop when the
	// connection ends; from then on Write, Flush and Close return ErrClosed.
	closed atomic.Bool
	// queued is set while the conn is in its loop's pending list, so many
	// Flush calls before the loop gets to it queue it once.
	queued atomic.Bool

	mu  sync.Mutex
	out outq.Queue // guarded by mu
}

var _ engines.Conn = (*conn)(nil)

// Write copies p into the outbound queue. It fails with ErrOutboundFull,
// queuing nothing, when the queue would exceed MaxOutboundBytes, and with
// ErrClosed once the connection is closed. Safe from any goroutine; p may be
// reused as soon as Write returns.
func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return 0, engines.ErrClosed
	}
	if c.out.Len()+len(p) > c.loop.maxOutbound {
		c.mu.Unlock()
		return 0, engines.ErrOutboundFull
	}
	c.out.Append(p)
	c.mu.Unlock()
	return len(p), nil
}

// Flush schedules the queued bytes for the socket: the owning loop writes
// them with one writev at the end of its current event batch, or after one
// wake-up if it sleeps. Calls before the loop gets to the connection
// coalesce. Safe from any goroutine; never blocks on the network.
func (c *conn) Flush() error {
	if c.closed.Load() {
		return engines.ErrClosed
	}
	return c.schedule()
}

// Close stops the connection from taking more writes and asks the owning
// loop to write what is queued as far as the socket takes it, close the
// descriptor and call OnClose(nil). A second Close returns ErrClosed.
func (c *conn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return engines.ErrClosed
	}
	return c.schedule()
}

// schedule puts c on its loop's pending list unless it is there already.
func (c *conn) schedule() error {
	if !c.queued.CompareAndSwap(false, true) {
		return nil
	}
	if !c.loop.enqueue(c) {
		// The loop has exited, and it closed every connection first.
		return engines.ErrClosed
	}
	return nil
}

// RemoteAddr is the peer's address, valid for the life of the conn; a new
// *net.TCPAddr on each call (callers are logs, not hot paths).
func (c *conn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.remote) }
