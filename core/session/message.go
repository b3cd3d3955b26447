// Package session holds the state an MQTT session keeps beyond one read batch:
// owned copies of application messages, the bounded queue of messages waiting
// for delivery, and the table of outbound messages in flight (QoS 1 and 2).
//
// Nothing here is safe for concurrent use: the broker guards each session's
// state with that session's mutex. Messages are immutable once built and may be
// shared by any number of queues, in-flight tables and the retained store at
// once (a Message counts, atomically, the queue slots holding it).
package session

import (
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

// Message is an owned, immutable copy of an application message (only the
// count of queue slots holding it changes, atomically). It is built
// only when a message has to outlive the read batch that carried it (queued for
// an offline or busy session, in flight at QoS > 0, retained, or a will), so
// the fan-out of QoS 0 messages to ready subscribers never builds one.
type Message struct {
	Topic   []byte // shares the message's single allocation
	Payload []byte
	QoS     mqtt.QoS
	Retain  bool
	// Props holds the properties forwarded to subscribers (payload format,
	// content type, response topic, correlation data, user properties); the
	// message expiry interval is kept as ExpiresAt instead.
	Props mqtt.Properties
	// ExpiresAt is when the message expires (MQTT 5 Message Expiry Interval);
	// zero means never.
	ExpiresAt time.Time
	// Size is the bytes the message holds (topic, payload, properties); queues
	// count it against their byte bound.
	Size int

	queued atomic.Int32 // queue slots holding the message: see Enqueued
}

// DeliverySlotSize is the memory one queued Delivery takes in a queue's ring.
const DeliverySlotSize = int(unsafe.Sizeof(Delivery{}))

// Footprint is the memory the message holds: its bytes (Size), its struct
// and its user property list.
func (m *Message) Footprint() int {
	return m.Size + int(unsafe.Sizeof(*m)) + len(m.Props.UserProperties)*int(unsafe.Sizeof(mqtt.UserProperty{}))
}

// Enqueued records that one more queue slot holds m and reports whether it
// is the only one now (no queue held m before). With Dequeued it lets a
// caller account for a message shared by many queues once. Safe for
// concurrent use.
func (m *Message) Enqueued() (first bool) { return m.queued.Add(1) == 1 }

// Dequeued records that a queue slot let m go and reports whether no queue
// holds it any more. Safe for concurrent use.
func (m *Message) Dequeued() (last bool) { return m.queued.Add(-1) == 0 }

// NewMessage copies p into a new Message received at now. All bytes (topic,
// payload, forwarded properties) share one allocation.
func NewMessage(p *mqtt.Publish, now time.Time) *Message {
	props := &p.Props
	n := len(p.Topic) + len(p.Payload) + len(props.ContentType) + len(props.ResponseTopic) +
		len(props.CorrelationData)
	for _, up := range props.UserProperties {
		n += len(up.Key) + len(up.Value)
	}
	buf := make([]byte, 0, n)
	take := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		start := len(buf)
		buf = append(buf, b...)
		return buf[start:len(buf):len(buf)]
	}
	m := &Message{
		Topic:   take(p.Topic),
		QoS:     p.QoS,
		Retain:  p.Retain,
		Payload: take(p.Payload),
		Size:    n,
	}
	if props.Has(mqtt.PropPayloadFormat) {
		m.Props.PayloadFormat = props.PayloadFormat
		m.Props.Set(mqtt.PropPayloadFormat)
	}
	if props.Has(mqtt.PropMessageExpiry) {
		m.ExpiresAt = now.Add(time.Duration(props.MessageExpiry) * time.Second)
	}
	m.Props.ContentType = take(props.ContentType)
	m.Props.ResponseTopic = take(props.ResponseTopic)
	m.Props.CorrelationData = take(props.CorrelationData)
	if len(props.UserProperties) > 0 {
		m.Props.UserProperties = make([]mqtt.UserProperty, len(props.UserProperties))
		for i, up := range props.UserProperties {
			m.Props.UserProperties[i] = mqtt.UserProperty{Key: take(up.Key), Value: take(up.Value)}
		}
	}
	return m
}

// Expired reports whether m has expired at now.
func (m *Message) Expired(now time.Time) bool {
	return !m.ExpiresAt.IsZero() && !now.Before(m.ExpiresAt)
}

// RemainingExpiry is the Message Expiry Interval to send at now: the original
// interval minus the time the message waited [MQTT-3.3.2-6], at least 1 s
// while not expired. ok is false when m has no expiry.
func (m *Message) RemainingExpiry(now time.Time) (seconds uint32, ok bool) {
	if m.ExpiresAt.IsZero() {
		return 0, false
	}
	left := m.ExpiresAt.Sub(now)
	if left <= 0 {
		return 0, true
	}
	s := (left + time.Second - 1) / time.Second
	return uint32(s), true
}

// Delivery is one message bound for one session, with the per-subscriber
// attributes fixed at routing time.
type Delivery struct {
	Msg    *Message
	QoS    mqtt.QoS // min(message QoS, subscription QoS)
	Retain bool     // the RETAIN flag to send
	// SubIDs are the subscription identifiers to send. The slice is shared
	// (it comes from the subscription trie's immutable results) and never
	// modified.
	SubIDs []uint32
}
