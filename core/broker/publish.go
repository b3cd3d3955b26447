package broker

import (
	"time"

	"github.com/pubsubx/pubsubx/core/logx"

	"github.com/pubsubx/pubsubx/core/mqtt"
	"github.com/pubsubx/pubsubx/core/session"
)

// handlePublish accepts a PUBLISH from the client: resolves its topic alias,
// checks the ACL, stores it if retained, routes it, and acknowledges it per
// its QoS.
func (c *conn) handlePublish(ws *workspace, flags byte, body []byte) error {
	p := &ws.pub
	if err := mqtt.DecodePublish(c.version, flags, body, p); err != nil {
		return err
	}
	if c.version == mqtt.V5 {
		if p.Props.Has(mqtt.PropSubscriptionID) {
			return &mqtt.Error{Code: mqtt.ProtocolError, Msg: "PUBLISH from a client carries a subscription identifier"} // [MQTT-3.3.4-6]
		}
		if err := c.resolveTopicAlias(p); err != nil {
			return err
		}
	}
	ws.received++
	b := c.b
	if b.log.Enabled(logx.Debug) {
		b.log.Debugf("Client %s published to %s (%d bytes, QoS %d)", c.session().id, p.Topic, len(p.Payload), p.QoS)
	}
	reason := mqtt.Success
	switch {
	case isSysTopic(p.Topic):
		reason = mqtt.NotAuthorized
		ws.denied++
		b.log.Warnf("Client %s: publish to %s refused: $SYS topics belong to the broker", c.session().id, p.Topic)
	case !c.session().ident.Load().canPublish(b, p.Topic):
		reason = mqtt.NotAuthorized
		ws.denied++
		b.log.Warnf("Client %s: publish to %s denied by the ACL", c.session().id, p.Topic)
	case c.version == mqtt.V5 && p.Props.PayloadFormat == 1 && !mqtt.ValidUTF8(p.Payload):
		reason = mqtt.PayloadFormatInvalid // [MQTT-3.3.2-?]: the receiver may check
		b.log.Warnf("Client %s: PUBLISH to %s with payload format 1 is not UTF-8", c.session().id, p.Topic)
	}

	switch p.QoS {
	case 0:
		if reason == mqtt.Success {
			c.route(ws, p)
		}
		return nil
	case 1:
		if reason == mqtt.Success && c.route(ws, p) == 0 && c.version == mqtt.V5 {
			reason = mqtt.NoMatchingSubscribers
		}
		return c.sendAck(ws, mqtt.PUBACK, p.PacketID, reason)
	}
	// QoS 2: route once per packet identifier until PUBREL [MQTT-4.3.3-10].
	if reason != mqtt.Success {
		return c.sendAck(ws, mqtt.PUBREC, p.PacketID, reason)
	}
	s := c.session()
	s.mu.Lock()
	if !s.qos2in.Holds(p.PacketID) && s.qos2in.Len() >= int(b.cfg.ReceiveMaximum) { // a resend of a held one is no new message
		s.mu.Unlock()
		return &mqtt.Error{Code: mqtt.ReceiveMaximumExceeded, Msg: "too many unreleased QoS 2 messages"} // [MQTT-3.3.4-9]
	}
	first := s.qos2in.Add(p.PacketID)
	s.mu.Unlock()
	if first && c.route(ws, p) == 0 && c.version == mqtt.V5 {
		reason = mqtt.NoMatchingSubscribers
	}
	return c.sendAck(ws, mqtt.PUBREC, p.PacketID, reason)
}

// route stores p if it is retained and fans it out; it returns the number of
// matching subscriptions.
func (c *conn) route(ws *workspace, p *mqtt.Publish) int {
	var msg *session.Message
	if p.Retain {
		msg = c.b.storeRetained(p) // [MQTT-3.3.1-5]
	}
	ws.r.begin(p, c.session(), msg)
	return ws.fanout(p.Topic)
}

// storeRetained replaces the retained message of p's topic, or deletes it
// when p's payload is empty [MQTT-3.3.1-6, 3.3.1-7]. It returns the owned
// copy of p it stored (nil after a delete).
func (b *Broker) storeRetained(p *mqtt.Publish) *session.Message {
	if len(p.Payload) == 0 {
		b.retained.Delete(p.Topic)
		return nil
	}
	if b.retained.Len() >= b.cfg.MaxRetained {
		if _, replacing := b.retained.Get(p.Topic); !replacing {
			n := b.stats.droppedRetained.Add(1)
			if b.dropWarnDue() {
				b.log.Warnf("Retained message to %s not kept: %d retained messages held (-max-retained); %d not kept so far", p.Topic, b.retained.Len(), n)
			}
			return nil // routed all the same
		}
	}
	m := session.NewMessage(p, time.Now())
	b.retained.Set(p.Topic, m)
	return m
}

// sendAck writes a PUBACK, PUBREC, PUBREL or PUBCOMP.
func (c *conn) sendAck(ws *workspace, t mqtt.Type, id uint16, reason mqtt.ReasonCode) error {
	ws.ack.Props.Reset()
	ws.ack.Type, ws.ack.PacketID, ws.ack.Reason = t, id, reason
	return c.send(ws, mqtt.AppendAck(ws.out[:0], c.version, &ws.ack))
}

// handleAck processes the acknowledgements of both QoS flows: PUBACK,
// PUBREC and PUBCOMP for messages the broker sent, PUBREL for QoS 2
// messages the client sent.
func (c *conn) handleAck(ws *workspace, t mqtt.Type, flags byte, body []byte) error {
	a := &ws.ack
	if err := mqtt.DecodeAck(c.version, t, flags, body, a); err != nil {
		return err
	}
	id, s := a.PacketID, c.session()
	s.mu.Lock()
	if s.owner != c {
		s.mu.Unlock()
		return nil // taken over: the new connection owns the flows
	}
	reply, replyReason := mqtt.Type(0), mqtt.Success
	switch t {
	case mqtt.PUBACK, mqtt.PUBCOMP:
		want := session.AwaitPuback
		if t == mqtt.PUBCOMP {
			want = session.AwaitPubcomp
		}
		if e, ok := s.inflight.Get(id); ok && e.Phase == want {
			s.inflight.Release(id)
		}
	case mqtt.PUBREC:
		e, ok := s.inflight.Get(id)
		switch {
		case ok && e.Phase == session.AwaitPubrec && a.Reason.IsError():
			s.inflight.Release(id) // the flow ends here [MQTT-4.3.3-4]
		case ok && e.Phase == session.AwaitPubrec:
			e.Phase = session.AwaitPubcomp
			e.Msg = nil // the message itself is no longer needed
			reply = mqtt.PUBREL
		case ok && e.Phase == session.AwaitPubcomp:
			reply = mqtt.PUBREL // a repeated PUBREC
		default:
			reply, replyReason = mqtt.PUBREL, mqtt.PacketIDNotFound
		}
	case mqtt.PUBREL:
		reply = mqtt.PUBCOMP
		if !s.qos2in.Release(id) {
			replyReason = mqtt.PacketIDNotFound // [MQTT-4.3.3-12] still answer
		}
	}
	if s.drainLocked(ws) {
		c.b.markBacklogged(s)
	}
	s.mu.Unlock()
	if reply == 0 {
		return nil
	}
	if c.version != mqtt.V5 {
		replyReason = mqtt.Success
	}
	return c.sendAck(ws, reply, id, replyReason)
}

// handleDisconnect ends the connection at the client's request. MQTT 5 may
// change the session expiry (not from 0 [MQTT-3.14.2-2]) and keep the will
// (reason 0x04); any other DISCONNECT discards the will [MQTT-3.14.4-3].
func (c *conn) handleDisconnect(ws *workspace, body []byte) error {
	d := &ws.disc
	if err := mqtt.DecodeDisconnect(c.version, body, d); err != nil {
		return err
	}
	s := c.session()
	s.mu.Lock()
	if s.owner == c {
		if c.version == mqtt.V5 && d.Props.Has(mqtt.PropSessionExpiry) {
			if c.expiryWasZero && d.Props.SessionExpiry != 0 {
				s.mu.Unlock()
				return errProtocol("DISCONNECT sets a session expiry after CONNECT set 0")
			}
			s.expiry = min(time.Duration(d.Props.SessionExpiry)*time.Second, c.b.cfg.Grace)
		}
		if d.Reason != mqtt.DisconnectWithWill {
			s.will = nil
		}
	}
	s.mu.Unlock()
	c.graceful.Store(true)
	c.state.Store(stateClosing)
	// Detach now rather than in OnClose: a client that reconnects the moment
	// it sees the socket close must find the session already ended or kept.
	c.b.detach(c, "")
	return errClientDisconnected
}

// publishWill publishes a will message: retained if flagged, then routed as
// if its client had published it.
func (b *Broker) publishWill(w *will) {
	m := w.msg
	if m.Expired(time.Now()) {
		return
	}
	p := &mqtt.Publish{QoS: m.QoS, Retain: m.Retain, Topic: m.Topic, Payload: m.Payload}
	forwardProps(&p.Props, &m.Props)
	if exp, ok := m.RemainingExpiry(time.Now()); ok {
		p.Props.MessageExpiry = exp
		p.Props.Set(mqtt.PropMessageExpiry)
	}
	if !w.ident.canPublish(b, m.Topic) {
		return
	}
	if m.Retain {
		if len(m.Payload) == 0 {
			b.retained.Delete(m.Topic)
		} else {
			b.retained.Set(m.Topic, m)
		}
	}
	ws := b.getWorkspace()
	ws.r.begin(p, nil, m)
	n := ws.fanout(m.Topic)
	b.putWorkspace(ws)
	b.log.Infof("Will of %s published to %s (%s)", w.clientID, m.Topic, counted(n, "subscriber", ""))
}

// canPublish applies the ACL's write rule (and refuses $SYS topics). id is
// nil when the broker has no ACL.
func (id *identity) canPublish(b *Broker, topic []byte) bool {
	return !isSysTopic(topic) && (b.cfg.ACL == nil || b.cfg.ACL.CanPublish(id.clientID, id.username, id.hasUsername, topic))
}

// isSysTopic reports whether topic is in the broker's own $SYS tree, which
// clients may not publish to.
func isSysTopic(topic []byte) bool {
	return len(topic) >= 4 && string(topic[:4]) == "$SYS"
}
