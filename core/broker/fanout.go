package broker

import (
	"sync/atomic"
	"time"

	"github.com/pubsubx/pubsubx/core/mqtt"
	"github.com/pubsubx/pubsubx/core/session"
	"github.com/pubsubx/pubsubx/core/topics"
)

// flushEpochs hands each read batch a distinct epoch, so a workspace can tell
// whether it already listed a connection for flushing.
var flushEpochs atomic.Uint64

// workspace is the scratch state of one read batch (or one housekeeping
// pass): decode targets, encode buffers, the route being fanned out, the
// connections to flush at the end and hot-path counters. Workspaces are
// pooled, so an idle connection holds none of this.
type workspace struct {
	b *Broker

	// Decode targets, reused across packets.
	pub     mqtt.Publish
	sub     mqtt.Subscribe
	unsub   mqtt.Unsubscribe
	ack     mqtt.Ack
	connect mqtt.Connect
	disc    mqtt.Disconnect
	auth    mqtt.Auth

	// Encoding scratch: out for per-delivery and control packets.
	out     []byte
	outPub  mqtt.Publish
	reasons []mqtt.ReasonCode

	r   route
	run run // consecutive messages to the same subscribers: see run.go

	epoch   uint64
	pending []*conn

	received, delivered, tooLarge, expired, queueFull, slowConsumer, denied int64
}

func newWorkspace(b *Broker) *workspace {
	return &workspace{b: b, epoch: flushEpochs.Add(1), out: make([]byte, 0, 512)}
}

// markFlush lists c for flushing at the end of the batch, once per batch.
// Another workspace may overwrite c's mark concurrently; then c is listed
// again here, and the extra Flush is cheap (the engine coalesces).
func (ws *workspace) markFlush(c *conn) {
	if c.flushMark.Load() != ws.epoch {
		c.flushMark.Store(ws.epoch)
		ws.pending = append(ws.pending, c)
	}
}

// finishBatch flushes every touched connection and folds the counters into
// the broker's.
func (ws *workspace) finishBatch() {
	ws.endRun()
	for i, c := range ws.pending {
		c.ec.Flush() // a closed connection has nothing to flush
		ws.pending[i] = nil
	}
	ws.pending = ws.pending[:0]
	ws.epoch = flushEpochs.Add(1)
	st := &ws.b.stats
	add := func(c *atomic.Int64, n *int64) {
		if *n != 0 {
			c.Add(*n)
			*n = 0
		}
	}
	add(&st.received, &ws.received)
	add(&st.delivered, &ws.delivered)
	add(&st.droppedTooLarge, &ws.tooLarge)
	add(&st.droppedExpired, &ws.expired)
	add(&st.droppedQueueFull, &ws.queueFull)
	add(&st.slowConsumer, &ws.slowConsumer)
	add(&st.droppedDenied, &ws.denied)
	if cap(ws.out) > 64<<10 {
		ws.out = make([]byte, 0, 512)
	}
	for vi := range ws.run.bufs {
		if cap(ws.run.bufs[vi]) > 2*maxRunBytes {
			ws.run.bufs[vi] = nil
		}
	}
	ws.r.release()
}

// route is one message being fanned out. The encoded QoS 0 PUBLISH is built
// at most once per variant (protocol version x RETAIN flag) and copied into
// every subscriber that takes that variant.
type route struct {
	pub  *mqtt.Publish    // the message; its slices alias the read buffer
	from *clientSession   // publisher's session, for No Local
	msg  *session.Message // owned copy, built only when something must keep it
	now  time.Time        // when msg was built (zero until then)

	built    [4]bool
	variants [4][]byte
}

// release drops references to the batch's bytes and shrinks big buffers.
func (r *route) release() {
	r.pub, r.from, r.msg = nil, nil, nil
	for i := range r.variants {
		if cap(r.variants[i]) > 64<<10 {
			r.variants[i] = nil
		}
	}
}

// begin starts routing p (published by from, or nil for a will).
func (r *route) begin(p *mqtt.Publish, from *clientSession, msg *session.Message) {
	r.pub, r.from, r.msg = p, from, msg
	r.built = [4]bool{}
}

// message returns the owned copy of the routed message, building it once.
func (r *route) message() *session.Message {
	if r.msg == nil {
		r.now = time.Now()
		r.msg = session.NewMessage(r.pub, r.now)
	}
	return r.msg
}

// variant returns the QoS 0 PUBLISH for protocol v with the given RETAIN
// flag, encoding it on first use.
func (ws *workspace) variant(v mqtt.Version, retain bool) []byte {
	r := &ws.r
	i := 0
	if v == mqtt.V5 {
		i = 2
	}
	if retain {
		i++
	}
	if !r.built[i] {
		p := ws.fillOutbound(v, retain, nil)
		r.variants[i] = mqtt.AppendPublish(r.variants[i][:0], v, p)
		r.built[i] = true
	}
	return r.variants[i]
}

// fillOutbound prepares ws.outPub as the QoS 0 PUBLISH of the routed message
// for protocol v, with subIDs (MQTT 5) attached.
func (ws *workspace) fillOutbound(v mqtt.Version, retain bool, subIDs []uint32) *mqtt.Publish {
	in, p := ws.r.pub, &ws.outPub
	p.Dup, p.QoS, p.Retain, p.PacketID = false, 0, retain, 0
	p.Topic, p.Payload = in.Topic, in.Payload
	p.Props.Reset()
	if v == mqtt.V5 {
		forwardProps(&p.Props, &in.Props)
		p.Props.SubscriptionIDs = append(p.Props.SubscriptionIDs, subIDs...)
	}
	return p
}

// forwardProps copies into dst the properties a broker forwards from a
// PUBLISH to its subscribers [MQTT-3.3.2-4, 3.3.2-17, 3.3.2-18, 3.3.2-19]:
// payload format, message expiry, content type, response topic, correlation
// data and user properties (in order). Topic alias and subscription
// identifiers are per hop and not forwarded. Slices alias src's bytes.
func forwardProps(dst, src *mqtt.Properties) {
	for _, id := range [...]byte{mqtt.PropPayloadFormat, mqtt.PropMessageExpiry} {
		if src.Has(id) {
			dst.Set(id)
		}
	}
	dst.PayloadFormat = src.PayloadFormat
	dst.MessageExpiry = src.MessageExpiry
	dst.ContentType = src.ContentType
	dst.ResponseTopic = src.ResponseTopic
	dst.CorrelationData = src.CorrelationData
	dst.UserProperties = append(dst.UserProperties, src.UserProperties...)
}

// fanout delivers the message begun in ws.r to every matching subscription:
// each non-shared subscriber, and one member of each shared group. It returns
// the number of subscriptions matched.
func (ws *workspace) fanout(topic []byte) int {
	res := ws.b.subs.Match(topic)
	if ws.runnable(res) {
		ws.addToRun(res)
		return len(res.Subs)
	}
	ws.endRun()
	for i := range res.Subs {
		ws.deliver(&res.Subs[i])
	}
	for _, g := range res.Shared {
		if d, ok := g.Pick(sessionReady); ok { // a ready member, or else the one whose turn it is
			ws.deliver(&d)
		}
	}
	return len(res.Subs) + len(res.Shared)
}

// sessionReady reports whether a shared group member can take a message at
// once: online, with nothing waiting.
func sessionReady(s *clientSession) bool { return s.conn.Load() != nil && !s.waiting.Load() }

// deliver sends the routed message to one subscriber. The fast path, taken
// for QoS 0 to an online subscriber with nothing queued, copies the encoded
// variant into the subscriber's connection without locks of the broker's own;
// anything else goes through the subscriber's session (deliverQueued).
func (ws *workspace) deliver(d *topics.Delivery[*clientSession]) {
	r := &ws.r
	s := d.Subscriber
	if d.NoLocal && s == r.from {
		return // [MQTT-3.8.3-3]
	}
	if ws.b.cfg.ACL != nil && !s.canReceive(r.pub.Topic) {
		return
	}
	qos := min(r.pub.QoS, mqtt.QoS(d.QoS))
	retain := r.pub.Retain && d.RetainAsPublished // [MQTT-3.3.1-12, 3.3.1-13]
	if c := s.conn.Load(); c != nil && qos == 0 && !s.slow.Load() {
		var pkt []byte
		if len(d.IDs) == 0 || c.version != mqtt.V5 {
			pkt = ws.variant(c.version, retain)
		} else {
			pkt = mqtt.AppendPublish(ws.out[:0], c.version, ws.fillOutbound(c.version, retain, d.IDs))
			ws.out = pkt
		}
		if c.maxPacket != 0 && len(pkt) > int(c.maxPacket) {
			ws.tooLarge++ // [MQTT-3.1.2-25]
			s.dropped.Add(1)
			return
		}
		if _, err := c.ec.Write(pkt); err == nil {
			ws.delivered++
			ws.markFlush(c)
			return
		}
		// Outbound full, or closing: the session takes it (and counts it).
	}
	s.deliverQueued(ws, session.Delivery{Msg: r.message(), QoS: qos, Retain: retain, SubIDs: d.IDs})
}
