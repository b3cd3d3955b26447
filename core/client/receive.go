package client

import (
	"time"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

// Message is an incoming PUBLISH: mqtt.Publish's fields (Topic, Payload,
// QoS, Retain, Dup, PacketID, and Props with the MQTT 5 properties, among
// them Props.SubscriptionIDs) and the time it was read.
//
// BORROWED: the Handler receives a *Message that the client reuses for the
// next message, and whose slices (Topic, Payload, every property) point
// into the client's read buffer. They are valid only until the Handler
// returns. Keep nothing from it: copy what you need, or keep m.Clone().
type Message struct {
	mqtt.Publish
	// ReceivedAt is when the read that brought the message returned. It is
	// taken once per read batch (one read system call, up to
	// Options.ReadBufferSize bytes, often many messages), so timestamping
	// costs nothing per message; messages of one batch share it.
	ReceivedAt time.Time
}

// SubscriptionIDs returns the identifiers of the subscriptions the message
// matched (MQTT 5 [MQTT-3.3.4-3]); borrowed like the Message.
func (m *Message) SubscriptionIDs() []uint32 { return m.Props.SubscriptionIDs }

// Clone returns a deep copy of m that the caller owns: its bytes share one
// new allocation.
func (m *Message) Clone() *Message {
	c := &Message{Publish: m.Publish, ReceivedAt: m.ReceivedAt}
	p := &c.Props
	size := len(m.Topic) + len(m.Payload) + len(p.ContentType) + len(p.ResponseTopic) + len(p.CorrelationData)
	for _, u := range p.UserProperties {
		size += len(u.Key) + len(u.Value)
	}
	arena := make([]byte, 0, size)
	own := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		start := len(arena)
		arena = append(arena, b...)
		return arena[start:len(arena):len(arena)]
	}
	c.Topic, c.Payload = own(m.Topic), own(m.Payload)
	if c.Payload == nil {
		c.Payload = []byte{}
	}
	p.ContentType, p.ResponseTopic, p.CorrelationData = own(p.ContentType), own(p.ResponseTopic), own(p.CorrelationData)
	// Fields of a CONNACK or DISCONNECT never appear in a PUBLISH.
	p.AssignedClientID, p.AuthMethod, p.AuthData, p.ResponseInfo, p.ServerReference, p.ReasonString = nil, nil, nil, nil, nil, nil
	p.SubscriptionIDs = append([]uint32(nil), p.SubscriptionIDs...)
	ups := make([]mqtt.UserProperty, len(p.UserProperties))
	for i, u := range p.UserProperties {
		ups[i] = mqtt.UserProperty{Key: own(u.Key), Value: own(u.Value)}
	}
	p.UserProperties = ups
	return c
}

// ChannelHandler returns a Handler that sends a Clone of each message to
// ch, in order. While ch is full the client's reader waits, and so reads
// nothing: the server then holds or drops messages (MQTT's own back
// pressure). The receiver of ch must keep up, or the keep-alive may expire.
func ChannelHandler(ch chan<- *Message) func(*Message) {
	return func(m *Message) { ch <- m.Clone() }
}

// reader is the state of the client's reader goroutine, touched only there
// (and by the handshake, which precedes it).
type reader struct {
	c        *Client
	buf      []byte
	parser   mqtt.Parser
	msg      Message
	ack      mqtt.Ack
	suback   mqtt.Suback
	unsuback mqtt.Unsuback
	disc     mqtt.Disconnect
	aliases  [][]byte      // inbound topic aliases, index alias-1 (MQTT 5)
	qos2     *[1024]uint64 // inbound QoS 2 packet ids received and not yet released
	handler  func(*Message)

	needFlush bool // acknowledgements were queued during this batch
}

func (rd *reader) init(c *Client) {
	rd.c = c
	rd.buf = make([]byte, c.opts.ReadBufferSize)
	rd.parser.MaxPacketSize = int(c.opts.MaximumPacketSize)
	rd.handler = c.opts.Handler
}

// readLoop reads until the connection ends: one read per batch, then every
// complete packet of the batch, then one flush of the acknowledgements the
// batch produced.
func (c *Client) readLoop() {
	rd := &c.rd
	err := rd.drain() // what arrived with the CONNACK
	for err == nil {
		var n int
		n, err = c.conn.Read(rd.buf)
		if n > 0 {
			now := time.Now()
			c.lastRecv.Store(int64(now.Sub(c.start)))
			rd.msg.ReceivedAt = now
			rd.parser.Feed(rd.buf[:n])
			if derr := rd.drain(); derr != nil {
				err = derr
			}
		}
	}
	c.finish(err)
}

// drain handles every complete packet the parser holds, then flushes the
// acknowledgements. A protocol violation by the server closes the
// connection with a DISCONNECT carrying its reason code [MQTT-4.13.1-1].
func (rd *reader) drain() error {
	var err error
	for {
		h, body, ok, perr := rd.parser.Next()
		if perr != nil {
			err = perr
			break
		}
		if !ok {
			break
		}
		if err = rd.handle(h, body); err != nil {
			break
		}
	}
	c := rd.c
	if err != nil {
		if _, isMQTT := err.(*mqtt.Error); isMQTT && c.version == mqtt.V5 {
			d := mqtt.Disconnect{Reason: mqtt.Reason(err)}
			c.mu.Lock()
			before := len(c.out)
			c.out = mqtt.AppendDisconnect(c.out, c.version, &d)
			c.grewLocked(before)
			c.mu.Unlock()
			rd.needFlush = true
		}
	}
	if rd.needFlush {
		rd.needFlush = false
		c.kickFlush()
	}
	if err != nil {
		if _, isReason := err.(*ReasonError); !isReason {
			err = lost(err)
		}
		c.fail(err)
	}
	return err
}

// handle dispatches one packet from the server.
func (rd *reader) handle(h mqtt.FixedHeader, body []byte) error {
	c := rd.c
	v := c.version
	if err := mqtt.CheckFlags(h.Type, h.Flags, v); err != nil {
		return err
	}
	switch h.Type {
	case mqtt.PUBLISH:
		return rd.handlePublish(h.Flags, body)
	case mqtt.PUBACK, mqtt.PUBREC, mqtt.PUBCOMP:
		if err := mqtt.DecodeAck(v, h.Type, h.Flags, body, &rd.ack); err != nil {
			return err
		}
		c.handlePubAck(&rd.ack)
	case mqtt.PUBREL:
		if err := mqtt.DecodeAck(v, h.Type, h.Flags, body, &rd.ack); err != nil {
			return err
		}
		reason := mqtt.Success
		if !rd.releaseQoS2(rd.ack.PacketID) {
			reason = mqtt.PacketIDNotFound // [MQTT-4.3.3-12] still answer
		}
		if v != mqtt.V5 {
			reason = mqtt.Success
		}
		c.appendAck(mqtt.PUBCOMP, rd.ack.PacketID, reason)
	case mqtt.SUBACK:
		if err := mqtt.DecodeSuback(v, body, &rd.suback); err != nil {
			return err
		}
		s := &rd.suback
		c.handleSubAck(mqtt.SUBSCRIBE, mqtt.SUBACK, s.PacketID, s.Reasons, s.Props.ReasonString)
	case mqtt.UNSUBACK:
		if err := mqtt.DecodeUnsuback(v, body, &rd.unsuback); err != nil {
			return err
		}
		u := &rd.unsuback
		c.handleSubAck(mqtt.UNSUBSCRIBE, mqtt.UNSUBACK, u.PacketID, u.Reasons, u.Props.ReasonString)
	case mqtt.PINGRESP:
		return mqtt.DecodePing(body) // lastRecv, set per read, is what keep-alive checks
	case mqtt.DISCONNECT:
		d := &rd.disc
		if err := mqtt.DecodeDisconnect(v, body, d); err != nil {
			return err
		}
		return &ReasonError{Packet: mqtt.DISCONNECT, Code: d.Reason, Version: v, ReasonString: string(d.Props.ReasonString)}
	default: // CONNECT, CONNACK, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, AUTH
		return &mqtt.Error{Code: mqtt.ProtocolError, Msg: h.Type.String() + " sent by the server"}
	}
	return nil
}

// handlePublish decodes a PUBLISH into the reused Message, resolves its
// topic alias, hands it to the Handler and acknowledges it afterwards: a
// QoS 1 message is acknowledged once handled; a QoS 2 message is handled
// once per packet identifier until PUBREL (method B of [MQTT-4.3.3-10]).
func (rd *reader) handlePublish(flags byte, body []byte) error {
	c, m := rd.c, &rd.msg
	if err := mqtt.DecodePublish(c.version, flags, body, &m.Publish); err != nil {
		return err
	}
	if c.version == mqtt.V5 && m.Props.Has(mqtt.PropTopicAlias) {
		if err := rd.resolveAlias(m); err != nil {
			return err
		}
	}
	switch m.QoS {
	case 0:
		rd.deliver(m)
	case 1:
		rd.deliver(m)
		c.appendAck(mqtt.PUBACK, m.PacketID, mqtt.Success)
	case 2:
		if rd.holdQoS2(m.PacketID) {
			rd.deliver(m)
		}
		c.appendAck(mqtt.PUBREC, m.PacketID, mqtt.Success)
	}
	return nil
}

func (rd *reader) deliver(m *Message) {
	if rd.handler != nil {
		rd.handler(m)
	}
}

// resolveAlias applies an inbound Topic Alias [MQTT-3.3.2-10..12]: a topic
// with an alias sets it, an empty topic uses it.
func (rd *reader) resolveAlias(m *Message) error {
	alias := int(m.Props.TopicAlias)
	if alias > int(rd.c.opts.TopicAliasMaximum) {
		return &mqtt.Error{Code: mqtt.TopicAliasInvalid, Msg: "topic alias above the client's maximum"} // [MQTT-3.3.2-9]
	}
	if rd.aliases == nil {
		rd.aliases = make([][]byte, rd.c.opts.TopicAliasMaximum)
	}
	slot := &rd.aliases[alias-1]
	if len(m.Topic) > 0 {
		*slot = append((*slot)[:0], m.Topic...)
		return nil
	}
	if len(*slot) == 0 {
		return &mqtt.Error{Code: mqtt.ProtocolError, Msg: "unknown topic alias"}
	}
	m.Topic = *slot
	return nil
}

// holdQoS2 records an inbound QoS 2 packet identifier and reports whether
// it is new (the message must be delivered).
func (rd *reader) holdQoS2(id uint16) bool {
	if rd.qos2 == nil {
		rd.qos2 = new([1024]uint64)
	}
	word, bit := &rd.qos2[id>>6], uint64(1)<<(id&63)
	if *word&bit != 0 {
		return false
	}
	*word |= bit
	return true
}

// releaseQoS2 forgets an inbound QoS 2 packet identifier at PUBREL and
// reports whether it was held.
func (rd *reader) releaseQoS2(id uint16) bool {
	if rd.qos2 == nil {
		return false
	}
	word, bit := &rd.qos2[id>>6], uint64(1)<<(id&63)
	held := *word&bit != 0
	*word &^= bit
	return held
}
