package broker

import (
	"github.com/pubsubx/pubsubx/core/mqtt"
	"github.com/pubsubx/pubsubx/core/topics"
)

// maxRunBytes bounds the encoded messages a run holds per protocol before it
// is delivered early.
const maxRunBytes = 1 << 20

// run is a sequence of consecutive QoS 0, non-retained messages of one read
// batch that match the same subscriptions (the same cached match result, so
// the same topic) and no shared group. Instead of copying each message into
// each subscriber's connection, the run keeps the messages encoded back to
// back, once per protocol version, and writes the whole run to each
// subscriber with one Write when it ends. The copy per delivery becomes a
// sequential copy per subscriber, and the engine's per-write costs (lock,
// bound check) are paid once per run rather than once per message: this is
// what makes large fan-outs cheap.
//
// A run ends at the end of the read batch, at a message that does not fit
// it, at any other packet, or at maxRunBytes. A subscriber that cannot take
// the run as is (away, something queued, subscription identifiers or a
// Maximum Packet Size to honour, outbound full) gets its messages one by one
// through the ordinary path, decoded back from the run.
type run struct {
	res    *topics.Result[*clientSession] // nil when no run is open
	from   *clientSession
	count  int
	bufs   [2][]byte // the messages encoded for 3.1.1 (0) and 5.0 (1)
	maxLen [2]int    // the largest single encoded message in bufs
	topic  []byte    // the run's topic (a copy), for the ACL's read check

	// separate lists the subscribers that take the run message by message;
	// parser and pub decode the run back for them (kept here: no allocation).
	separate []*topics.Delivery[*clientSession]
	parser   mqtt.Parser
	pub      mqtt.Publish
}

// versionIndex maps a protocol version to its slot in run.bufs.
func versionIndex(v mqtt.Version) int {
	if v == mqtt.V5 {
		return 1
	}
	return 0
}

// runnable reports whether the message being routed may join a run.
func (ws *workspace) runnable(res *topics.Result[*clientSession]) bool {
	p := ws.r.pub
	return p.QoS == 0 && !p.Retain && ws.r.msg == nil && len(res.Shared) == 0 && len(res.Subs) > 0
}

// addToRun appends the message being routed to the open run, first ending
// the open run if it is for other subscriptions or another publisher.
func (ws *workspace) addToRun(res *topics.Result[*clientSession]) {
	rn := &ws.run
	if rn.res != res || rn.from != ws.r.from {
		ws.endRun()
		rn.res, rn.from = res, ws.r.from
		rn.topic = append(rn.topic[:0], ws.r.pub.Topic...)
	}
	for vi, v := range [2]mqtt.Version{mqtt.V311, mqtt.V5} {
		start := len(rn.bufs[vi])
		rn.bufs[vi] = mqtt.AppendPublish(rn.bufs[vi], v, ws.fillOutbound(v, false, nil))
		rn.maxLen[vi] = max(rn.maxLen[vi], len(rn.bufs[vi])-start)
	}
	rn.count++
	if len(rn.bufs[1]) >= maxRunBytes {
		ws.endRun()
	}
}

// endRun delivers the open run, if any, to each of its subscribers: with one
// Write where the subscriber can take the run as is, else message by message
// (deliverRunSeparately) to all the others together.
func (ws *workspace) endRun() {
	rn := &ws.run
	if rn.res == nil {
		return
	}
	readable := ws.b.cfg.ACL == nil
	for i := range rn.res.Subs {
		d := &rn.res.Subs[i]
		s := d.Subscriber
		if d.NoLocal && s == rn.from {
			continue // [MQTT-3.8.3-3]
		}
		if !readable && !s.canReceive(rn.topic) {
			continue
		}
		if c := s.conn.Load(); c != nil && !s.slow.Load() && (len(d.IDs) == 0 || c.version != mqtt.V5) {
			vi := versionIndex(c.version)
			if c.maxPacket == 0 || rn.maxLen[vi] <= int(c.maxPacket) {
				if _, err := c.ec.Write(rn.bufs[vi]); err == nil {
					ws.delivered += int64(rn.count)
					ws.markFlush(c)
					continue
				}
			}
		}
		rn.separate = append(rn.separate, d)
	}
	if len(rn.separate) > 0 {
		ws.deliverRunSeparately()
	}
	clear(rn.separate)
	rn.res, rn.from, rn.count, rn.separate = nil, nil, 0, rn.separate[:0]
	for vi := range rn.bufs {
		rn.bufs[vi], rn.maxLen[vi] = rn.bufs[vi][:0], 0
	}
}

// deliverRunSeparately gives the subscribers listed in run.separate the run's
// messages one at a time through deliver, decoding each back from its MQTT 5
// encoding (which keeps every forwarded property). Each message is routed to
// all of them together, so the owned copy a queued delivery needs is made
// once per message, never once per subscriber.
func (ws *workspace) deliverRunSeparately() {
	rn := &ws.run
	saved := ws.r // the run may end while another message is being routed
	defer func() {
		ws.r = saved
		ws.r.built = [4]bool{} // the variant buffers were reused meanwhile
	}()
	parser, pub := &rn.parser, &rn.pub
	parser.Reset()
	parser.Feed(rn.bufs[1])
	for {
		h, body, ok, err := parser.Next()
		if err != nil || !ok {
			return // the run holds only complete packets this broker encoded
		}
		if mqtt.DecodePublish(mqtt.V5, h.Flags, body, pub) != nil {
			return
		}
		ws.r.begin(pub, rn.from, nil)
		for _, d := range rn.separate {
			ws.deliver(d)
		}
	}
}
