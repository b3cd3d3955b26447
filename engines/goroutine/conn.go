package goroutine

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/internal/outq"
)

// conn is one connection: the engines.Conn the core writes to, and the
// goroutines that move its bytes.
//
// Locking: mu guards the outbound queue and the closing state. Write and
// Flush hold it only to copy and to mark; no socket call happens under it
// except setting deadlines. Exactly one goroutine at a time (the one that set
// writing) uses the writer's fields iov and iovStore.
//
// The queue: Flush seals the bytes queued so far (sealed counts them), and
// the writer takes the chunks that hold them (outq's detached way). Until a
// chunk is taken, Writes keep filling it: bytes written after a Flush may
// land in the last sealed chunk and leave with it, earlier than their own
// Flush, which the contract allows. Once taken, a chunk belongs to the
// writer, which reads it without the lock, and Writes go to a new chunk.
type conn struct {
	eng     *engine
	nc      net.Conn
	remote  net.Addr
	handler engines.Handler
	writeFn func() // c.drain, built once so that `go c.writeFn()` does not allocate

	// closed is set once, under mu, when the connection stops taking Writes;
	// the reader reads it without mu.
	closed     atomic.Bool
	writeCalls atomic.Uint64 // writev batches, for tests

	mu       sync.Mutex
	drained  sync.Cond // broadcast when a writer stops; L is &mu
	closeErr error     // OnClose's argument, set with closed
	queue    outq.Queue
	sealed   int  // bytes of queue flushed and not yet taken by the writer
	queued   int  // bytes written and not yet taken by the socket
	writing  bool // a goroutine is running drain
	aborted  bool // Shutdown's context ended: stop flushing now

	iov      net.Buffers // the chunks being written, as WriteTo consumes them
	iovStore [][]byte    // iov's backing array at full length, for reuse
}

func newConn(e *engine, nc net.Conn) *conn {
	c := &conn{eng: e, nc: nc, remote: nc.RemoteAddr()}
	c.drained.L = &c.mu
	c.writeFn = c.drain
	return c
}

// Write copies p into the outbound queue; see engines.Conn.
func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return 0, engines.ErrClosed
	}
	if len(p) > c.eng.opts.MaxOutboundBytes-c.queued {
		c.mu.Unlock()
		return 0, engines.ErrOutboundFull
	}
	c.queue.Append(p)
	c.queued += len(p)
	c.mu.Unlock()
	return len(p), nil
}

// Flush marks everything queued for writing and starts a writer goroutine if
// none is running; a running writer picks the new bytes up after its current
// writev, so Flushes made meanwhile coalesce into one write.
func (c *conn) Flush() error {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return engines.ErrClosed
	}
	c.sealed = c.queue.Len()
	start := !c.writing && c.sealed > 0
	if start {
		c.writing = true
	}
	c.mu.Unlock()
	if start {
		go c.writeFn()
	}
	return nil
}

// Close stops the connection taking Writes and wakes its reader, which
// flushes the queue, closes the socket and calls OnClose(nil). Close returns
// at once; it is safe from inside OnData.
func (c *conn) Close() error {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return engines.ErrClosed
	}
	c.closed.Store(true) // closeErr stays nil: a local close
	c.mu.Unlock()
	c.nc.SetReadDeadline(aLongTimeAgo)
	return nil
}

// RemoteAddr is the peer's address, fixed at accept.
func (c *conn) RemoteAddr() net.Addr { return c.remote }

// serve is the connection's reader goroutine: open, OnData per read, then the
// final flush, the socket's close and OnClose.
func (c *conn) serve(open func(engines.Conn) engines.Handler) {
	defer c.eng.forget(c)
	c.handler = open(c)
	var err error
	if c.handler != nil {
		err = c.readLoop()
	}
	c.finish(err)
}

// readLoop calls OnData for every read until the connection ends, and returns
// why it ended (nil when closed locally).
func (c *conn) readLoop() error {
	r := c.newReader()
	defer r.release()
	for {
		p, err := r.read()
		if c.closed.Load() {
			return nil // Close, or a write error: that reason stands
		}
		if len(p) > 0 {
			if err := c.handler.OnData(p); err != nil {
				return err
			}
		}
		if err != nil {
			return err
		}
	}
}

// finish ends the connection in its reader goroutine: it records reason unless
// the connection was already closed, flushes what is queued within the flush
// deadline, closes the socket, and calls OnClose last.
func (c *conn) finish(reason error) {
	c.mu.Lock()
	if !c.closed.Load() {
		c.closed.Store(true)
		c.closeErr = reason
	}
	c.sealed = c.queue.Len()
	if c.aborted {
		c.nc.SetWriteDeadline(aLongTimeAgo)
	} else {
		c.nc.SetWriteDeadline(c.eng.flushDeadline()) // also bounds a running writer
	}
	for c.writing {
		c.drained.Wait()
	}
	if c.sealed > 0 {
		c.writing = true
		c.mu.Unlock()
		c.drain()
		c.mu.Lock()
	}
	c.dropQueue()
	err := c.closeErr
	c.mu.Unlock()

	c.nc.Close()
	if c.handler != nil {
		c.handler.OnClose(err)
	}
}

// abortFlush makes a closing connection give up its final flush at once.
func (c *conn) abortFlush() {
	c.mu.Lock()
	c.aborted = true
	c.nc.SetWriteDeadline(aLongTimeAgo)
	c.mu.Unlock()
}

// drain is the writer: it takes the chunks holding the sealed bytes and
// writes them, one writev per batch, until nothing sealed is left, then
// clears writing. Only the goroutine that set writing may run it.
func (c *conn) drain() {
	written := 0
	c.mu.Lock()
	for {
		c.queued -= written
		if c.sealed == 0 {
			break
		}
		batch := c.queue.TakeAtLeast(c.sealed)
		c.sealed = 0
		c.mu.Unlock()

		c.iov = batch.AppendSlices(c.iovStore[:0])
		c.iovStore = c.iov
		n, err := c.iov.WriteTo(c.nc)
		c.writeCalls.Add(1)
		written = int(n)
		clear(c.iovStore) // WriteTo clears only what it wrote
		batch.Release()

		c.mu.Lock()
		if err != nil {
			c.failWrite(err)
			break
		}
	}
	c.writing = false
	c.trimWriter()
	c.drained.Broadcast()
	c.mu.Unlock()
}

// failWrite ends the connection after a write error: the queue is dropped and
// the reader woken to finish. c.mu must be held.
func (c *conn) failWrite(err error) {
	if !c.closed.Load() {
		c.closed.Store(true)
		c.closeErr = err
	}
	c.dropQueue()
	c.nc.SetReadDeadline(aLongTimeAgo)
}

// dropQueue recycles everything queued and not taken by a writer; c.mu must
// be held.
func (c *conn) dropQueue() {
	c.queue.Release()
	c.sealed = 0
	c.queued = 0
}

// maxIdleIovecs bounds the writer's slice kept while idle, so that one big
// burst does not pin its array for the connection's lifetime.
const maxIdleIovecs = 64

// trimWriter drops the writer's slice if a burst grew it; c.mu must be held
// and no writer running.
func (c *conn) trimWriter() {
	if cap(c.iovStore) > maxIdleIovecs {
		c.iov, c.iovStore = nil, nil
	}
}
