//go:build linux

package epoll

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

const (
	// maxEvents is the most readiness events one epoll_wait returns.
	maxEvents = 256
	// maxIovecs is the most chunks one writev hands the kernel (1 MiB of
	// 4 KiB chunks), well under IOV_MAX.
	maxIovecs = 256
	// pendingRounds bounds how often one loop iteration re-reads its
	// pending list while callbacks keep adding to it; what is left waits
	// for the next iteration, which does not block.
	pendingRounds = 4
)

// Stop requests Shutdown gives a loop, in increasing order of force.
const (
	stopNone  int32 = iota
	stopDrain       // stop reading, write out queues, close as they drain
	stopForce       // close everything now
)

// loop is one event loop: a goroutine, an epoll instance and an eventfd,
// and the connections assigned to it.
type loop struct {
	eng         *engine
	index       int
	poller      *poller
	maxOutbound int // Options.MaxOutboundBytes, read by writers

	// load counts connections handed to the loop and not yet closed; the
	// acceptor reads it to pick the least-loaded loop.
	load atomic.Int64

	// Pending list: conns to open, flush or close, appended by any
	// goroutine. pendingMu also serialises eventfd writes with the close of
	// the eventfd at exit (dead), so no wake-up ever writes to a closed or
	// reused descriptor.
	pendingMu sync.Mutex
	pending   []*conn
	dead      bool

	// awake is true from the moment the loop returns from epoll_wait until
	// it has decided to block again. While it is true, a conn queued on the
	// pending list needs no eventfd write: the loop is bound to see the
	// list before it sleeps. This makes fan-out among the loop's own
	// connections, flushed from its own callbacks, free of wake-ups, and
	// makes many wake-ups from other goroutines cost one eventfd write.
	awake atomic.Bool

	stop       atomic.Int32  // stop request from Shutdown
	wakeCount  atomic.Uint64 // eventfd writes
	writevs    atomic.Uint64 // writev calls
	iterations atomic.Uint64 // returns from epoll_wait

	// Loop-goroutine state.
	conns    connTable    // open and draining conns by descriptor
	spare    []*conn      // the pending list's other half
	readBuf  []byte       // one read buffer for all the loop's conns
	iov      []unix.Iovec // writev scratch
	stopSeen int32        // the stop request being served
}

func newLoop(e *engine, index int) (*loop, error) {
	p, err := newPoller()
	if err != nil {
		return nil, err
	}
	return &loop{
		eng:         e,
		index:       index,
		poller:      p,
		maxOutbound: e.opts.MaxOutboundBytes,
	}, nil
}

// enqueue appends c to the pending list and wakes the loop if it may be
// asleep. It reports false, queuing nothing, once the loop has exited.
func (l *loop) enqueue(c *conn) bool {
	l.pendingMu.Lock()
	if l.dead {
		l.pendingMu.Unlock()
		return false
	}
	l.pending = append(l.pending, c)
	l.wakeLocked()
	l.pendingMu.Unlock()
	return true
}

// notify wakes the loop so it looks at its stop request.
func (l *loop) notify() {
	l.pendingMu.Lock()
	if !l.dead {
		l.wakeLocked()
	}
	l.pendingMu.Unlock()
}

// wakeLocked writes the eventfd unless the loop is awake or a wake-up is
// already on its way. Called with pendingMu held.
func (l *loop) wakeLocked() {
	if l.awake.CompareAndSwap(false, true) {
		l.wakeCount.Add(1)
		// The eventfd write only fails if the descriptor is bad, which
		// pendingMu and dead rule out.
		_ = l.poller.wake()
	}
}

// hasWork reports whether the pending list or a stop request needs the
// loop before it may block.
func (l *loop) hasWork() bool {
	l.pendingMu.Lock()
	n := len(l.pending)
	l.pendingMu.Unlock()
	return n > 0 || l.stop.Load() != l.stopSeen
}

// run is the loop's goroutine. It is not locked to an OS thread: the loop
// blocks only in epoll_wait, and a locked thread would turn every hand-off
// between the loop and other goroutines into an OS thread switch.
func (l *loop) run() {
	defer l.exit()
	l.readBuf = make([]byte, l.eng.opts.ReadBufferSize)
	l.iov = make([]unix.Iovec, maxIovecs)
	events := make([]unix.EpollEvent, maxEvents)
	timeout := -1
	for {
		n, err := l.poller.wait(events, timeout)
		l.awake.Store(true)
		l.iterations.Add(1)
		if err != nil {
			l.closeAll(err)
			return
		}
		for i := range n {
			l.handle(&events[i])
		}
		l.runPending()
		if s := l.stop.Load(); s != l.stopSeen {
			l.stopSeen = s
			l.beginStop(s)
		}
		if l.stopSeen != stopNone && l.conns.n == 0 {
			return
		}
		// About to block: from here on, writers must write the eventfd.
		// Checking for work after clearing awake closes the window in
		// which a writer saw awake and skipped its wake-up.
		l.awake.Store(false)
		timeout = -1
		if l.hasWork() {
			timeout = 0
		}
	}
}

// handle dispatches one readiness event.
func (l *loop) handle(ev *unix.EpollEvent) {
	fd := int(ev.Fd)
	if fd == l.poller.eventfd {
		l.poller.drainWake()
		return
	}
	c := l.conns.get(fd)
	if c == nil {
		return
	}
	if c.state == stateDraining {
		l.drainStep(c)
		return
	}
	if ev.Events&unix.EPOLLOUT != 0 && c.writeArmed {
		if !l.flush(c) {
			return
		}
	}
	if ev.Events&inputEvents != 0 {
		l.read(c)
	}
}

// runPending serves the conns queued by Flush, Close and the acceptor.
func (l *loop) runPending() {
	for range pendingRounds {
		l.pendingMu.Lock()
		list := l.pending
		l.pending = l.spare[:0]
		l.pendingMu.Unlock()
		if len(list) == 0 {
			l.spare = list
			return
		}
		for i, c := range list {
			list[i] = nil
			l.serve(c)
		}
		l.spare = list[:0]
	}
}

// serve opens, flushes or closes one pending conn. queued is cleared before
// closed is read, so a Close that found the conn queued is seen here, and a
// later one queues it again.
func (l *loop) serve(c *conn) {
	c.queued.Store(false)
	switch c.state {
	case stateNew:
		if !l.open(c) {
			return
		}
	case stateDraining, stateDone:
		return
	}
	if c.closed.Load() {
		l.finalize(c, nil, true)
		return
	}
	if !c.writeArmed {
		l.flush(c)
	}
}

// open calls the engine's open function for a new conn and registers it.
// During Shutdown the conn is closed unopened, with no callbacks. It reports
// whether the conn is open.
func (l *loop) open(c *conn) bool {
	if l.stopSeen != stopNone {
		l.discard(c)
		return false
	}
	h := l.eng.open(c)
	if h == nil {
		l.discard(c)
		return false
	}
	c.handler = h
	if err := l.poller.add(c.fd, readEvents); err != nil {
		c.state = stateOpen // OnClose follows the open call
		l.conns.put(c)
		l.finalize(c, err, false)
		return false
	}
	c.state = stateOpen
	l.conns.put(c)
	return true
}

// discard closes a conn that was never opened; it gets no callbacks.
func (l *loop) discard(c *conn) {
	c.closed.Store(true)
	l.release(c)
}

// release closes c's descriptor, which is not (or no longer) registered,
// and drops its queue. Write, Flush and Close already fail: closed is set,
// and Write checks it under the mutex taken here.
func (l *loop) release(c *conn) {
	_ = unix.Close(c.fd)
	c.fd = -1
	c.state = stateDone
	c.mu.Lock()
	c.out.Release()
	c.mu.Unlock()
	l.load.Add(-1)
}

// beginStop serves a new stop request: a drain stops reading every conn and
// closes those whose queue is written out; a forced stop closes the rest.
func (l *loop) beginStop(s int32) {
	if s == stopForce {
		l.closeAll(l.eng.forceErr)
		return
	}
	for _, c := range l.conns.all() {
		if c == nil || c.state != stateOpen {
			continue
		}
		c.closed.Store(true)
		c.state = stateDraining
		if err := l.poller.modify(c.fd, drainEvents); err != nil {
			l.finalize(c, err, false)
			continue
		}
		c.writeArmed = true
		l.drainStep(c)
	}
}

// drainStep writes a draining conn and closes it once its queue is empty
// (dropping unread input first, see finalize) or its socket fails.
func (l *loop) drainStep(c *conn) {
	drained, err := l.writeOut(c)
	switch {
	case err != nil:
		l.finalize(c, err, false)
	case drained:
		l.finalize(c, nil, true)
	}
}

// closeAll closes every conn now, without writing, with err for OnClose.
func (l *loop) closeAll(err error) {
	for _, c := range l.conns.all() {
		if c != nil {
			l.finalize(c, err, false)
		}
	}
}

// exit marks the loop dead, closes conns handed to it and never opened,
// releases the poller and reports to the engine.
func (l *loop) exit() {
	l.pendingMu.Lock()
	l.dead = true
	list := l.pending
	l.pending = nil
	l.pendingMu.Unlock()
	for _, c := range list {
		if c.state == stateNew {
			l.discard(c)
		}
	}
	_ = l.poller.close()
	l.eng.loopExited()
}
