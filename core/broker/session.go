package broker

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pubsubx/pubsubx/core/mqtt"
	"github.com/pubsubx/pubsubx/core/session"
)

// clientSession is the broker's state for one client identifier, online or
// not. Subscriptions in the trie point to it, so messages routed while its
// client is away find it and queue.
//
// conn and slow are read without the lock by the fan-out fast path: conn is
// the connection ready for direct delivery (nil while away or resuming), slow
// forces every delivery through mu (something is queued, or per-connection
// state such as outbound topic aliases must be consulted). Both change only
// under mu. Everything else is guarded by mu. Lock order: Broker.mu, then
// clientSession.mu.
type clientSession struct {
	b  *Broker
	id string

	conn    atomic.Pointer[conn]
	slow    atomic.Bool
	waiting atomic.Bool              // deliveries wait in the queue or for resending
	dropped atomic.Uint32            // deliveries this client lost to bounds
	epoch   uint32                   // mu; bumped on every attach and detach; timers check it
	ident   atomic.Pointer[identity] // of the attached client, for the ACL

	// Guarded by mu. Fields are ordered (and sized) to pack: an idle
	// session must cost little.
	mu       sync.Mutex
	owner    *conn    // attached connection, also while resuming
	filters  []string // subscribed filters as given, for cleanup
	queue    session.Queue
	inflight session.Inflight
	qos2in   session.QoS2Received
	expiry   time.Duration // how long the session outlives its connection
	will     *will         // the attached (or lost) connection's will
	timer    *time.Timer   // session expiry or will delay, while away
	window   uint16        // the attached client's in-flight window
	resends  uint16        // in-flight entries marked Resend
	ended    bool
}

func newClientSession(b *Broker, id string) *clientSession {
	s := &clientSession{b: b, id: id}
	s.slow.Store(true)
	return s
}

// sendResult says what became of one delivery offered to a connection.
type sendResult uint8

const (
	sent       sendResult = iota // written (or dropped for good: expired, too large)
	waitWindow                   // the client's in-flight window is full
	waitOutput                   // the connection's outbound queue is full
	waitClosed                   // the connection is closing
)

// deliverQueued delivers d through the session: at once when the client is
// online with nothing ahead of d, otherwise at the end of the queue.
func (s *clientSession) deliverQueued(ws *workspace, d session.Delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	c := s.conn.Load()
	if c != nil && !s.waiting.Load() {
		switch s.sendLocked(ws, c, d) {
		case sent:
			return
		case waitOutput:
			ws.slowConsumer++
			s.b.markBacklogged(s)
		}
	}
	s.enqueueLocked(ws, d)
}

// holdQueued charges the broker-wide queue budget for one more queue slot
// holding m, and for m itself when no other queue holds it, and reports
// whether the budget allows it. Either way the caller calls releaseQueued
// when the slot is not kept, or when it leaves the queue. Charging before
// checking keeps the bound exact when sessions queue at the same time.
func (b *Broker) holdQueued(m *session.Message) bool {
	cost := int64(session.DeliverySlotSize)
	if m.Enqueued() {
		cost += int64(m.Footprint())
	}
	return b.queuedTotal.Add(cost) <= b.cfg.MaxQueuedTotalBytes
}

// releaseQueued gives back what holdQueued charged: the slot, and m itself
// when no queue holds it any more.
func (b *Broker) releaseQueued(m *session.Message) {
	cost := int64(session.DeliverySlotSize)
	if m.Dequeued() {
		cost += int64(m.Footprint())
	}
	b.queuedTotal.Add(-cost)
}

// enqueueLocked appends d to the queue, or counts it dropped at the bound.
func (s *clientSession) enqueueLocked(ws *workspace, d session.Delivery) {
	s.slow.Store(true)
	s.waiting.Store(true)
	b := s.b
	withinBudget := b.holdQueued(d.Msg)
	if withinBudget && s.queue.Push(d, b.cfg.MaxQueuedMessages, b.cfg.MaxQueuedBytes) {
		return
	}
	b.releaseQueued(d.Msg)
	ws.queueFull++
	n := s.dropped.Add(1)
	switch {
	case !b.dropWarnDue():
	case !withinBudget:
		b.log.Warnf("Client %s: broker-wide queue budget spent (%d bytes queued over all sessions, -max-queued-total): dropping messages (%d dropped so far)",
			s.id, b.queuedTotal.Load(), n)
	default:
		b.log.Warnf("Client %s: queue full (%d messages, %d bytes): dropping messages (%d dropped so far)",
			s.id, s.queue.Len(), s.queue.Bytes(), n)
	}
}

// sendLocked encodes d for c and writes it, taking an in-flight slot for QoS
// 1 and 2.
func (s *clientSession) sendLocked(ws *workspace, c *conn, d session.Delivery) sendResult {
	if d.Msg.Expired(time.Now()) {
		ws.expired++ // [MQTT-3.3.2-5]
		return sent
	}
	var id uint16
	if d.QoS > 0 {
		if s.inflight.Full(int(s.window)) {
			return waitWindow
		}
		id = s.inflight.Add(d, int(s.window))
	}
	pkt, assign := ws.encodeDelivery(c, d, id, false)
	if c.maxPacket != 0 && len(pkt) > int(c.maxPacket) {
		if id != 0 {
			s.inflight.Release(id)
		}
		ws.tooLarge++ // [MQTT-3.1.2-25]
		s.dropped.Add(1)
		return sent
	}
	if _, err := c.ec.Write(pkt); err != nil {
		if id != 0 {
			s.inflight.Release(id)
		}
		if c.state.Load() == stateClosing {
			return waitClosed
		}
		return waitOutput
	}
	assign.commit(c)
	ws.delivered++
	ws.markFlush(c)
	return sent
}

// drainLocked sends what waits for the ready connection, as far as it takes
// it: in-flight entries marked for resending, then the queue. It reports
// whether the session should be retried later (outbound full).
func (s *clientSession) drainLocked(ws *workspace) (retry bool) {
	c := s.conn.Load()
	if c == nil {
		return false
	}
	result := s.resendLocked(ws, c)
	for result == sent {
		d, ok := s.queue.Peek()
		if !ok {
			break
		}
		if result = s.sendLocked(ws, c, d); result == sent {
			s.queue.Pop()
			s.b.releaseQueued(d.Msg)
		}
	}
	s.updateSlowLocked(c)
	return result == waitOutput
}

// resendLocked writes the in-flight entries marked Resend, in their
// original order [MQTT-4.4.0-1]: PUBLISH with DUP set, or PUBREL.
func (s *clientSession) resendLocked(ws *workspace, c *conn) sendResult {
	result := sent
	if s.resends == 0 {
		return result
	}
	s.inflight.Each(func(e *session.Outflight) {
		if !e.Resend || result != sent {
			return
		}
		var pkt []byte
		if e.Phase == session.AwaitPubcomp {
			pkt = mqtt.AppendAck(ws.out[:0], c.version, &mqtt.Ack{Type: mqtt.PUBREL, PacketID: e.ID})
		} else {
			pkt, _ = ws.encodeDelivery(c, e.Delivery, e.ID, true)
		}
		ws.out = pkt[:0]
		if _, err := c.ec.Write(pkt); err != nil {
			result = waitOutput
			if c.state.Load() == stateClosing {
				result = waitClosed
			}
			return
		}
		e.Resend = false
		s.resends--
		ws.markFlush(c)
	})
	return result
}

// updateSlowLocked decides whether deliveries may bypass mu.
func (s *clientSession) updateSlowLocked(c *conn) {
	waiting := s.queue.Len() > 0 || s.resends > 0
	s.waiting.Store(waiting)
	s.slow.Store(c == nil || waiting || c.aliasOut != nil)
}

// resume makes c the session's ready connection: in-flight messages are sent
// again, then the queue drains as far as c takes it. Called after CONNACK was
// written, so these follow it on the wire.
func (s *clientSession) resume(ws *workspace, c *conn, window int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owner != c {
		return // taken over meanwhile
	}
	s.window = uint16(min(window, 65535))
	s.resends = 0
	s.inflight.Each(func(e *session.Outflight) {
		e.Resend = true
		s.resends++
	})
	s.conn.Store(c)
	if s.drainLocked(ws) {
		s.b.markBacklogged(s)
	}
}

// detachLocked cuts the session from its connection before another attaches:
// pending timers are cancelled. When a live connection is being taken over,
// its will is due now if it has no delay; it is returned.
func (s *clientSession) detachLocked(takeover bool) *will {
	s.epoch++
	s.stopTimerLocked()
	s.owner = nil
	s.conn.Store(nil)
	s.slow.Store(true)
	if takeover && s.will != nil && s.will.delay == 0 {
		w := s.will
		s.will = nil
		return w
	}
	return nil
}

func (s *clientSession) stopTimerLocked() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

// endLocked ends the session: its subscriptions leave the trie and what it
// held is dropped. It returns the number of deliveries dropped.
func (s *clientSession) endLocked() int {
	s.ended = true
	s.epoch++
	s.stopTimerLocked()
	for _, f := range s.filters {
		s.b.subs.Unsubscribe([]byte(f), s)
	}
	s.filters = nil
	s.qos2in.Clear()
	s.resends = 0
	s.waiting.Store(false)
	queued := 0
	for d, ok := s.queue.Pop(); ok; d, ok = s.queue.Pop() {
		s.b.releaseQueued(d.Msg)
		queued++
	}
	return queued + s.inflight.Clear()
}

// canReceive applies the ACL's read rule to a delivery on topic.
func (s *clientSession) canReceive(topic []byte) bool {
	id := s.ident.Load()
	return id == nil || s.b.cfg.ACL.CanReceive(id.clientID, id.username, id.hasUsername, topic)
}

// detach handles the end of c's connection: the session is kept for its
// expiry, with the will published at once or after its delay, or ended now.
func (b *Broker) detach(c *conn, why string) {
	s := c.session()
	b.mu.Lock()
	s.mu.Lock()
	if s.owner != c {
		s.mu.Unlock()
		b.mu.Unlock()
		return // taken over: the new connection owns the session
	}
	s.epoch++
	s.owner = nil
	s.conn.Store(nil)
	s.slow.Store(true)
	graceful, closing := c.graceful.Load(), b.closing
	var due *will
	if closing {
		s.will = nil // (a normal DISCONNECT removed it already: see handleDisconnect)
	}
	if s.will != nil && (s.will.delay == 0 || s.expiry == 0) {
		due, s.will = s.will, nil
	}
	queued := s.queue.Len() + s.inflight.Len()
	ended := s.expiry == 0
	if ended {
		delete(b.sessions, s.id)
		b.stats.droppedExpiredSession.Add(int64(s.endLocked()))
	} else {
		s.scheduleLocked()
	}
	expiry := s.expiry
	s.mu.Unlock()
	b.mu.Unlock()

	switch {
	case graceful:
		b.log.Infof("Client %s disconnected", c.describe())
	case closing:
		b.log.Infof("Client %s disconnected: %s", c.describe(), why)
	default:
		b.log.Infof("Client %s lost: %s", c.describe(), why)
	}
	switch {
	case !ended && !closing:
		b.log.Infof("Session of %s kept for %v (%s)", s.id, expiry, counted(queued, "message", "queued"))
	case ended && queued > 0:
		b.log.Infof("Session of %s ended (%s dropped)", s.id, counted(queued, "queued message", ""))
	}
	if due != nil {
		b.publishWill(due)
	}
}

// scheduleLocked arms the session's timer while it is away: the will delay
// first (when shorter than the expiry), then the expiry.
func (s *clientSession) scheduleLocked() {
	epoch := s.epoch
	if s.will != nil && s.will.delay < s.expiry {
		s.timer = time.AfterFunc(s.will.delay, func() { s.willDelayPassed(epoch) })
		return
	}
	s.timer = time.AfterFunc(s.expiry, func() { s.b.expire(s, epoch) })
}

// willDelayPassed publishes the will of a session still away, then waits for
// the rest of the expiry.
func (s *clientSession) willDelayPassed(epoch uint32) {
	s.mu.Lock()
	if s.epoch != epoch || s.will == nil {
		s.mu.Unlock()
		return
	}
	w := s.will
	s.will = nil
	rest := s.expiry - w.delay
	s.timer = time.AfterFunc(rest, func() { s.b.expire(s, epoch) })
	s.mu.Unlock()
	s.b.publishWill(w)
}

// expire ends a session whose client did not come back in time.
func (b *Broker) expire(s *clientSession, epoch uint32) {
	b.mu.Lock()
	s.mu.Lock()
	if s.epoch != epoch || s.ended || s.owner != nil {
		s.mu.Unlock()
		b.mu.Unlock()
		return
	}
	if b.sessions[s.id] == s {
		delete(b.sessions, s.id)
	}
	w := s.will
	s.will = nil
	dropped := s.endLocked()
	s.mu.Unlock()
	b.mu.Unlock()
	b.stats.droppedExpiredSession.Add(int64(dropped))
	b.log.Infof("Session of %s expired (%s dropped)", s.id, counted(dropped, "queued message", ""))
	if w != nil {
		b.publishWill(w) // [MQTT-3.1.2-8]
	}
}
