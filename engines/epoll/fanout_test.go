//go:build linux

package epoll_test

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/enginetest"
	"github.com/pubsubx/pubsubx/engines/epoll"
)

// fanout is a server whose first connection publishes: every chunk it sends
// is written to each later connection (the subscribers) and flushed, from
// the publisher's loop, the way the core fans out. The subscribers send
// nothing.
type fanout struct {
	*enginetest.Server
	mu     sync.Mutex
	subs   []engines.Conn
	full   []int    // ErrOutboundFull count per subscriber
	offset int      // publisher stream offset
	kept   [][2]int // accepted (offset, len) segments of subs[0]
}

func startFanout(t testing.TB, o engines.Options, nsubs int) (f *fanout, pub net.Conn, subs []net.Conn) {
	t.Helper()
	f = &fanout{}
	f.Server = serve(t, o, enginetest.Handlers{Data: f.publish})
	pub, _ = f.Dial(t)
	var conns []engines.Conn
	for range nsubs {
		nc, sc := f.Dial(t)
		subs, conns = append(subs, nc), append(conns, sc.Conn)
	}
	f.mu.Lock()
	f.subs, f.full = conns, make([]int, nsubs)
	f.mu.Unlock()
	return f, pub, subs
}

// publish is the publisher's OnData, run on its loop.
func (f *fanout) publish(_ *enginetest.Peer, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.subs {
		_, err := s.Write(p)
		switch {
		case errors.Is(err, engines.ErrOutboundFull):
			f.full[i]++
		case err != nil:
			return err
		case i == 0:
			f.kept = append(f.kept, [2]int{f.offset, len(p)})
		}
	}
	for _, s := range f.subs {
		if err := s.Flush(); err != nil {
			return err
		}
	}
	f.offset += len(p)
	return nil
}

// stream sends total bytes of the pattern stream through pub, in writes of
// 16 KiB, and checks that every reader receives all of it in order. The
// sender stays at most window bytes ahead of the slowest reader (0: no
// limit), so readers' queues stay under their bound however slowly a loaded
// machine schedules them.
func stream(t *testing.T, pub net.Conn, readers []net.Conn, total, window int) {
	t.Helper()
	const size = 16 << 10
	progress := make([]atomic.Int64, len(readers))
	var wg sync.WaitGroup
	for i, nc := range readers {
		wg.Go(func() {
			buf := make([]byte, 64<<10)
			nc.SetReadDeadline(time.Now().Add(enginetest.Timeout))
			for off := 0; off < total; {
				n, err := nc.Read(buf[:min(len(buf), total-off)])
				if err != nil {
					t.Errorf("reader %d at byte %d: %v", i, off, err)
					return
				}
				checkPattern(t, buf[:n], off)
				off += n
				progress[i].Store(int64(off))
			}
		})
	}
	slowest := func() int64 {
		m := int64(total)
		for i := range progress {
			m = min(m, progress[i].Load())
		}
		return m
	}
	deadline := time.Now().Add(enginetest.Timeout)
	for off := 0; off < total; off += size {
		for window > 0 && int64(off-window) > slowest() && time.Now().Before(deadline) {
			time.Sleep(100 * time.Microsecond) // poll the readers' progress
		}
		if _, err := pub.Write(pattern(off, min(size, total-off))); err != nil {
			t.Errorf("publisher write: %v", err)
			break
		}
	}
	wg.Wait()
}

// receivePattern reads n bytes of the pattern stream from each conn in
// parallel and checks every byte.
func receivePattern(t *testing.T, conns []net.Conn, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for _, nc := range conns {
		wg.Go(func() {
			buf, err := enginetest.ReadN(nc, n)
			if err != nil {
				t.Error(err)
				return
			}
			checkPattern(t, buf, 0)
		})
	}
	wg.Wait()
}

// A subscriber that stops reading fills its socket (partial writes,
// EAGAIN, EPOLLOUT) and then its bounded queue (ErrOutboundFull), while the
// others keep receiving everything. When it reads again it gets exactly the
// bytes its queue accepted, in order, and its loop stops polling for
// EPOLLOUT once the queue drains.
func TestSlowSubscriberIsBoundedOthersFlow(t *testing.T) {
	const total, bound = 8 << 20, 1 << 20
	f, pub, subs := startFanout(t, engines.Options{Loops: 2, MaxOutboundBytes: bound}, 5)
	stream(t, pub, subs[1:], total, bound/4) // subs[0] reads nothing yet
	if t.Failed() {
		t.FailNow()
	}

	f.mu.Lock()
	full, kept := f.full[0], f.kept
	f.mu.Unlock()
	if full == 0 {
		t.Fatalf("the stalled subscriber never hit its %d-byte bound", bound)
	}
	var want []byte
	for _, seg := range kept {
		want = append(want, pattern(seg[0], seg[1])...)
	}
	if len(want) >= total {
		t.Fatalf("stalled subscriber accepted %d bytes of %d", len(want), total)
	}
	got := enginetest.MustRead(t, subs[0], len(want)) // written from EPOLLOUT events: no more Flush calls
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("stalled subscriber: byte %d differs after reading resumed", i)
		}
	}
	t.Logf("stalled subscriber: %d bytes accepted, %d writes refused", len(want), full)

	// The drained queue disarmed EPOLLOUT: an idle engine does not spin.
	// Quiet means no readiness at all, so this cannot flake on a slow box.
	before := epoll.Iterations(f.Engine)
	time.Sleep(50 * time.Millisecond)
	if spins := epoll.Iterations(f.Engine) - before; spins > 2 {
		t.Errorf("idle loops woke %d times in 50ms: EPOLLOUT left armed?", spins)
	}
	// And it takes writes again.
	f.mu.Lock()
	f.subs = f.subs[:1]
	f.mu.Unlock()
	pub.Write([]byte("again"))
	if buf := enginetest.MustRead(t, subs[0], 5); string(buf) != "again" {
		t.Errorf("after draining got %q", buf)
	}
}

// One publisher on one loop fans out to subscribers spread over every loop.
func TestCrossLoopFanout(t *testing.T) {
	const loops, total = 4, 1 << 20
	f, pub, subs := startFanout(t, engines.Options{Loops: loops}, 12)
	seen := map[int]int{}
	f.mu.Lock()
	for _, s := range f.subs {
		seen[epoll.LoopOf(s)]++
	}
	f.mu.Unlock()
	if len(seen) != loops {
		t.Fatalf("subscribers on loops %v, want all %d", seen, loops)
	}
	stream(t, pub, subs, total, 0)
}

// Fan-out among the connections of one loop, flushed from that loop's own
// callback, never writes the eventfd: the loop is awake and flushes at the
// end of its batch.
func TestSameLoopFanoutWritesNoEventfd(t *testing.T) {
	const total = 512 << 10
	f, pub, subs := startFanout(t, engines.Options{Loops: 1}, 20)
	before := epoll.WakeupWrites(f.Engine)
	writevs := epoll.Writevs(f.Engine)
	stream(t, pub, subs, total, 0)
	if n := epoll.WakeupWrites(f.Engine) - before; n != 0 {
		t.Errorf("same-loop fan-out wrote the eventfd %d times, want 0", n)
	}
	t.Logf("%d writev calls for %d KiB to each of %d subscribers",
		epoll.Writevs(f.Engine)-writevs, total>>10, len(subs))
}

// Flushes from another goroutine while the owner loop is busy in a callback
// cost no eventfd write at all; the loop flushes them before it sleeps.
func TestFlushWhileLoopBusyCoalesces(t *testing.T) {
	const targets, rounds = 30, 100
	entered, release := make(chan struct{}), make(chan struct{})
	s := serve(t, engines.Options{Loops: 1}, enginetest.Handlers{Data: func(*enginetest.Peer, []byte) error {
		entered <- struct{}{}
		<-release
		return nil
	}})
	blocker, _ := s.Dial(t)
	var clients []net.Conn
	var conns []engines.Conn
	for range targets {
		nc, sc := s.Dial(t)
		clients, conns = append(clients, nc), append(conns, sc.Conn)
	}
	blocker.Write([]byte{1})
	<-entered
	before := epoll.WakeupWrites(s.Engine)
	for r := range rounds {
		for _, c := range conns {
			if _, err := c.Write(pattern(r*8, 8)); err != nil {
				t.Fatal(err)
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := epoll.WakeupWrites(s.Engine) - before; n != 0 {
		t.Errorf("%d flushes to a busy loop wrote the eventfd %d times, want 0", targets*rounds, n)
	}
	close(release)
	receivePattern(t, clients, rounds*8)
}

// Steady-state fan-out allocates nothing per message: not in Write, Flush,
// the loop's writev, nor the chunk pool.
func TestFanoutAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	_, pub, subs := startFanout(t, engines.Options{Loops: 1}, 10)
	msg := make([]byte, 64)
	buf := make([]byte, 64)
	allocs := testing.AllocsPerRun(500, func() {
		pub.Write(msg)
		for _, nc := range subs {
			if _, err := io.ReadFull(nc, buf); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("fan-out of one message to %d subscribers: %v allocations, want 0", len(subs), allocs)
	}
}
