//go:build linux

package netpoll

import (
	"errors"
	"fmt"
	"sync/atomic"

	cloudwego "github.com/cloudwego/netpoll"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/internal/outq"
)

// ErrWriteTimeout is OnClose's argument (wrapped) when netpoll could not
// write a connection's bytes within Settings.WriteTimeout: its peer stopped
// reading. netpoll leaves such a connection in a state where it cannot be
// flushed again, so the engine closes it.
var ErrWriteTimeout = errors.New("netpoll: write timed out, peer not reading")

// maxHandOff bounds the bytes one netpoll Flush carries, so that the write
// timeout measures a stalled peer rather than a long backlog: a peer must
// take maxHandOff bytes per WriteTimeout while its socket is full.
const maxHandOff = 256 << 10

// testHookHandOff, when set, runs in a flusher between taking a batch and
// handing it to netpoll: tests use it to close the connection right there.
var testHookHandOff atomic.Pointer[func(*conn)]

// flushLoop is a connection's flusher: the only goroutine that uses the
// connection's netpoll Writer. Flush and Close start it (claimFlusher) when
// there is work and none runs; it hands queued bytes to netpoll in batches of
// up to maxHandOff until the queue is empty, then exits, closing the netpoll
// connection if Close was called. Its netpoll Flush blocks while the peer's
// socket is full, for at most the write timeout; publishers meanwhile keep
// queueing, up to MaxOutboundBytes, and never wait for it.
func (c *conn) flushLoop() {
	for {
		c.mu.Lock()
		batch := c.out.take(maxHandOff)
		if batch.Len() == 0 {
			c.flushing = false
			closeNow := c.closing && !c.closed
			c.mu.Unlock()
			if closeNow {
				c.np.Close()
			}
			return
		}
		c.mu.Unlock()

		if hook := testHookHandOff.Load(); hook != nil {
			(*hook)(c)
		}
		n := batch.Len()
		err := c.handOff(&batch)
		batch.Release() // handOff copied it into netpoll's buffer
		c.mu.Lock()
		c.out.written(n)
		if err == nil {
			c.mu.Unlock()
			continue
		}
		c.flushing = false
		if errors.Is(err, engines.ErrClosed) {
			// netpoll closed the connection (the peer went away, or abort):
			// its close callback follows and says why.
			c.mu.Unlock()
			return
		}
		// A write error or timeout ends the connection. closing is set in
		// the critical section that ends this flusher, so no other flusher
		// starts: after a write timeout netpoll's Flush may not run again.
		if !c.closing {
			c.closing, c.closeErr = true, err
		}
		closeNow := !c.closed
		c.mu.Unlock()
		if closeNow {
			c.np.Close()
		}
		return
	}
}

// handOff copies a batch into netpoll's Writer and flushes it. It
// returns once netpoll wrote all of it, or with netpoll's error: ErrClosed if
// the connection closed, ErrWriteTimeout (wrapped) if the peer did not read
// for the write timeout.
func (c *conn) handOff(batch *outq.Batch) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.writerDead {
		return engines.ErrClosed
	}
	w := c.np.Writer()
	buf, err := w.Malloc(batch.Len())
	if err != nil {
		return fmt.Errorf("netpoll: malloc: %w", err)
	}
	batch.CopyTo(buf)
	switch err := w.Flush(); {
	case err == nil:
		return nil
	case errors.Is(err, cloudwego.ErrWriteTimeout):
		return fmt.Errorf("%w (%v)", ErrWriteTimeout, err)
	case errors.Is(err, cloudwego.ErrConnClosed):
		return engines.ErrClosed
	default:
		return err
	}
}
