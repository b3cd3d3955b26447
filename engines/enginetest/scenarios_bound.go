package enginetest

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
)

// boundScenarios: the outbound bound and Shutdown, both with peers that do
// not read.
func boundScenarios() []scenario {
	return []scenario{
		{"OutboundBound", testOutboundBound},
		{"Shutdown", group(
			scenario{"ServeReturns", testShutdownServeReturns},
			scenario{"FlushesQueued", testShutdownFlushesQueued},
			scenario{"DeadlineWithStuckPeer", testShutdownDeadline},
			scenario{"ListenerFails", testListenerFails},
		)},
	}
}

// smallBound is the MaxOutboundBytes of the scenarios that fill a queue.
const smallBound = 64 << 10

// recordSize is the payload size of the records that fill a queue.
const recordSize = 1000

// fillUntilFull writes records (stream 0, sequence numbers from 0) and flushes
// each until the queue stays full: Write has returned ErrOutboundFull for
// settle, so the socket takes no more (the client does not read). It returns
// the sequence number of the record that did not fit.
func fillUntilFull(t *testing.T, p *Peer) uint32 {
	t.Helper()
	const (
		limit  = 256 << 20 // far beyond any socket buffer
		settle = 100 * time.Millisecond
	)
	deadline := time.Now().Add(Timeout)
	var rec []byte
	var fullSince time.Time
	for seq, total := uint32(0), 0; ; {
		rec = AppendRecord(rec[:0], 0, seq, recordSize)
		_, err := p.Write(rec)
		switch {
		case errors.Is(err, engines.ErrOutboundFull):
			if fullSince.IsZero() {
				fullSince = time.Now()
			} else if time.Since(fullSince) >= settle {
				t.Logf("outbound queue full after %d bytes", total)
				return seq
			}
			time.Sleep(time.Millisecond)
		case err != nil:
			t.Fatalf("Write: %v", err)
		default:
			fullSince = time.Time{}
			if err := p.Flush(); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			seq++
			total += len(rec)
		}
		if total > limit || time.Now().After(deadline) {
			t.Fatalf("no lasting ErrOutboundFull after %d bytes to a peer that does not read", total)
		}
	}
}

// writeWhenRoom writes p, retrying while the queue is full, within Timeout.
func writeWhenRoom(t *testing.T, p *Peer, data []byte) {
	t.Helper()
	WaitUntil(t, "room in the outbound queue", func() bool {
		_, err := p.Write(data)
		if err != nil && !errors.Is(err, engines.ErrOutboundFull) {
			t.Fatalf("Write: %v", err)
		}
		return err == nil
	})
	if err := p.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// testOutboundBound: with a small MaxOutboundBytes, Writes to a peer that does
// not read end in ErrOutboundFull without queueing part of a record; another
// connection carries on; once the peer reads, everything queued arrives and
// Writes succeed again.
func testOutboundBound(t *testing.T, newEngine factory) {
	h := start(t, newEngine, engines.Options{MaxOutboundBytes: smallBound}, Echo)
	slow, sp := h.Dial(t)
	fast, _ := h.Dial(t)

	if n, err := sp.Write(make([]byte, smallBound+1)); n != 0 || !errors.Is(err, engines.ErrOutboundFull) {
		t.Fatalf("Write of MaxOutboundBytes+1 bytes = %d, %v; want 0, ErrOutboundFull", n, err)
	}
	next := fillUntilFull(t, sp)

	msg := pattern(1<<10, 7)
	MustWrite(t, fast, msg)
	sameBytes(t, "echo on another connection while one queue is full", MustRead(t, fast, len(msg)), msg)

	const more = 200 // records written after the peer starts reading
	read := make(chan error, 1)
	go func() { read <- NewRecordReader(slow).Expect(int(next) + more) }()
	var rec []byte
	for seq := next; seq < next+more; seq++ {
		rec = AppendRecord(rec[:0], 0, seq, recordSize)
		writeWhenRoom(t, sp, rec)
	}
	if err := <-read; err != nil {
		t.Fatalf("slow peer: %v", err)
	}
}

// testShutdownServeReturns: Serve returns ErrServerClosed after Shutdown, and
// the engine accepts no more connections.
func testShutdownServeReturns(t *testing.T, newEngine factory) {
	h := start(t, newEngine, engines.Options{}, Echo)
	c, p := h.Dial(t)
	if err := h.Shutdown(t, Timeout); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := h.ServeResult(t); !errors.Is(err, engines.ErrServerClosed) {
		t.Fatalf("Serve returned %v, want ErrServerClosed", err)
	}
	if err := p.WaitClosed(t); err != nil {
		t.Fatalf("OnClose(%v) at Shutdown, want nil", err)
	}
	ExpectEOF(t, c)

	opened := len(h.Peers())
	if late, err := net.DialTimeout("tcp", h.Addr, Timeout); err == nil {
		defer late.Close()
		expectClosedByServer(t, late)
	}
	if peers := h.Peers(); len(peers) > opened {
		t.Fatalf("open called for %s after Shutdown", peers[opened].Remote)
	}
}

// testShutdownFlushesQueued: data written (not even flushed) before Shutdown
// reaches a reading peer before EOF.
func testShutdownFlushesQueued(t *testing.T, newEngine factory) {
	h := start(t, newEngine, engines.Options{}, nil)
	c, p := h.Dial(t)
	want := pattern(32<<10, 8)
	if _, err := p.Write(want); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := h.Shutdown(t, Timeout); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	sameBytes(t, "data queued before Shutdown", MustRead(t, c, len(want)), want)
	ExpectEOF(t, c)
	if err := p.WaitClosed(t); err != nil {
		t.Fatalf("OnClose(%v) at Shutdown, want nil", err)
	}
}

// testShutdownDeadline: a peer that never reads cannot hold Shutdown beyond
// its context; the connection still gets its OnClose.
func testShutdownDeadline(t *testing.T, newEngine factory) {
	h := start(t, newEngine, engines.Options{MaxOutboundBytes: smallBound}, nil)
	stuck, sp := h.Dial(t)
	idle, ip := h.Dial(t)
	fillUntilFull(t, sp)

	const grace = 200 * time.Millisecond
	began := time.Now()
	err := h.Shutdown(t, grace)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want nil or context.DeadlineExceeded", err)
	}
	if late := time.Since(began) - grace; late > Timeout/10 {
		t.Fatalf("Shutdown returned %v after its context ended", late)
	}
	sp.WaitClosed(t)
	if err := ip.WaitClosed(t); err != nil {
		t.Fatalf("idle connection: OnClose(%v) at Shutdown, want nil", err)
	}
	ExpectEOF(t, idle)
	expectClosedByServer(t, stuck)
}

// testListenerFails: when the listener fails, Serve returns its error rather
// than hanging; Shutdown still works afterwards.
func testListenerFails(t *testing.T, newEngine factory) {
	h := start(t, newEngine, engines.Options{}, Echo)
	c, _ := h.Dial(t)
	h.Listener.Close()
	err := h.ServeResult(t)
	if err == nil || errors.Is(err, engines.ErrServerClosed) {
		t.Fatalf("Serve returned %v after its listener failed, want the listener's error", err)
	}
	if err := h.Shutdown(t, Timeout); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	ExpectEOF(t, c)
}
