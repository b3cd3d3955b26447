package brokertest

import (
	"net"
	"strings"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

// This file holds the RawClient's higher-level steps: complete QoS flows,
// synchronisation with the broker, and access to the socket. Like the rest
// of RawClient they fail the test on anything unexpected and are not safe
// for concurrent use.

// LocalAddr returns the client's end of the connection ("127.0.0.1:port"),
// which is the address the broker's log lines name the client by.
func (c *RawClient) LocalAddr() string { return c.nc.LocalAddr().String() }

// SetReadBuffer sets the socket's receive buffer (SO_RCVBUF), so that a
// client that stops reading stalls the broker's writes after a few KiB.
func (c *RawClient) SetReadBuffer(bytes int) {
	c.t.Helper()
	tc, ok := c.nc.(*net.TCPConn)
	if !ok {
		c.t.Fatalf("brokertest: SetReadBuffer: not a TCP connection")
	}
	if err := tc.SetReadBuffer(bytes); err != nil {
		c.t.Fatalf("brokertest: SetReadBuffer: %v", err)
	}
}

// Sync sends PINGREQ and fails the test unless the next packet is PINGRESP.
// The broker handles a connection's packets in order and writes its replies
// in order, so after Sync every packet the broker wrote to this connection
// before handling the PINGREQ has been read: a Sync right after a stimulus
// proves that the stimulus sent nothing here. Deliveries caused by another
// connection are covered once that connection's own flow completed (a QoS 1
// publisher has its PUBACK, or a QoS 0 publisher did its own Sync).
func (c *RawClient) Sync() {
	c.t.Helper()
	c.Send(mqtt.AppendPingreq(nil))
	c.Expect(mqtt.PINGRESP)
}

// ExpectConnack returns the next packet decoded as a CONNACK, for a CONNECT
// sent with Send.
func (c *RawClient) ExpectConnack() *mqtt.Connack {
	c.t.Helper()
	p := c.Expect(mqtt.CONNACK)
	ack := &mqtt.Connack{}
	if err := mqtt.DecodeConnack(c.Version, p.Body, ack); err != nil {
		c.t.Fatalf("brokertest: CONNACK: %v", err)
	}
	return ack
}

// ExpectPublishes returns the next n packets decoded as PUBLISH packets,
// without acknowledging them.
func (c *RawClient) ExpectPublishes(n int) []*mqtt.Publish {
	c.t.Helper()
	out := make([]*mqtt.Publish, n)
	for i := range out {
		out[i] = c.ExpectPublish()
	}
	return out
}

// Ack completes the receiver's side of the flow of a PUBLISH the broker
// sent: PUBACK for QoS 1; PUBREC, the broker's PUBREL, then PUBCOMP for
// QoS 2; nothing for QoS 0. PUBLISH and PINGRESP packets that arrive
// before the PUBREL stay queued, in order, for the next Expect.
func (c *RawClient) Ack(p *mqtt.Publish) {
	c.t.Helper()
	switch p.QoS {
	case 1:
		c.SendAck(mqtt.PUBACK, p.PacketID)
	case 2:
		c.SendAck(mqtt.PUBREC, p.PacketID)
		rel := c.expectPastPublishes(mqtt.PUBREL)
		a := &mqtt.Ack{}
		if err := mqtt.DecodeAck(c.Version, mqtt.PUBREL, rel.Flags, rel.Body, a); err != nil {
			c.t.Fatalf("brokertest: PUBREL: %v", err)
		}
		if a.PacketID != p.PacketID {
			c.t.Fatalf("brokertest: PUBREL for packet %d, want %d", a.PacketID, p.PacketID)
		}
		c.SendAck(mqtt.PUBCOMP, p.PacketID)
	}
}

// expectPastPublishes returns the next packet of type t, keeping the PUBLISH
// and PINGRESP packets received before it queued for later (deliveries and
// the answer to a Sync or Drain may precede an acknowledgement); any other
// packet fails the test.
func (c *RawClient) expectPastPublishes(t mqtt.Type) Packet {
	c.t.Helper()
	var held []Packet
	for {
		p := c.Next(DefaultWait)
		if p.Type == t {
			c.queue = append(held, c.queue...)
			return p
		}
		if p.Type != mqtt.PUBLISH && p.Type != mqtt.PINGRESP {
			c.t.Fatalf("brokertest: got %s (body % x), want %s", p.Type, p.Body, t)
		}
		held = append(held, p)
	}
}

// PublishFlow publishes like Publish and completes the sender's side of the
// flow: it waits for PUBACK (QoS 1), or PUBREC, sends PUBREL and waits for
// PUBCOMP (QoS 2). It returns the reason code of the PUBACK or PUBREC
// (always Success at QoS 0 and in MQTT 3.1.1). When it returns, the broker
// has routed the message (at QoS 0, only once a later Sync returns).
// PUBLISH and PINGRESP packets that arrive meanwhile (the client's own
// subscriptions) stay queued, in order, for the next Expect.
func (c *RawClient) PublishFlow(topic, payload string, qos mqtt.QoS, retain bool, id uint16, edit func(*mqtt.Publish)) mqtt.ReasonCode {
	c.t.Helper()
	c.Publish(topic, payload, qos, retain, id, edit)
	switch qos {
	case 1:
		return c.expectAckFor(mqtt.PUBACK, id).Reason
	case 2:
		rec := c.expectAckFor(mqtt.PUBREC, id)
		if rec.Reason.IsError() {
			return rec.Reason // the flow ends at an error PUBREC [MQTT-4.3.3-4]
		}
		c.SendAck(mqtt.PUBREL, id)
		if comp := c.expectAckFor(mqtt.PUBCOMP, id); comp.Reason != mqtt.Success {
			c.t.Fatalf("brokertest: PUBCOMP %d with reason %s", id, comp.Reason)
		}
		return rec.Reason
	}
	return mqtt.Success
}

// expectAckFor expects an acknowledgement of type t for packet id; PUBLISH
// and PINGRESP packets received before it stay queued for the next Expect.
func (c *RawClient) expectAckFor(t mqtt.Type, id uint16) *mqtt.Ack {
	c.t.Helper()
	p := c.expectPastPublishes(t)
	a := &mqtt.Ack{}
	if err := mqtt.DecodeAck(c.Version, t, p.Flags, p.Body, a); err != nil {
		c.t.Fatalf("brokertest: %s: %v", t, err)
	}
	if a.PacketID != id {
		c.t.Fatalf("brokertest: %s for packet %d, want %d", t, a.PacketID, id)
	}
	return a
}

// Unsubscribe unsubscribes from filters with packet id 2 and returns the
// UNSUBACK (its Reasons are empty in MQTT 3.1.1).
func (c *RawClient) Unsubscribe(filters ...string) *mqtt.Unsuback {
	c.t.Helper()
	u := &mqtt.Unsubscribe{PacketID: 2}
	for _, f := range filters {
		u.Filters = append(u.Filters, []byte(f))
	}
	c.Send(mqtt.AppendUnsubscribe(nil, c.Version, u))
	p := c.Expect(mqtt.UNSUBACK)
	ack := &mqtt.Unsuback{}
	if err := mqtt.DecodeUnsuback(c.Version, p.Body, ack); err != nil {
		c.t.Fatalf("brokertest: UNSUBACK: %v", err)
	}
	if ack.PacketID != 2 {
		c.t.Fatalf("brokertest: UNSUBACK for packet %d, want 2", ack.PacketID)
	}
	return ack
}

// CountLog returns how many times substr occurs in the broker's log so far.
func (s *Server) CountLog(substr string) int { return strings.Count(s.Logs(), substr) }

// Drain sends PINGREQ and returns the PUBLISH packets received before the
// PINGRESP, each acknowledged (see Ack): everything the broker had queued
// for this connection when it handled the PINGREQ.
func (c *RawClient) Drain() []*mqtt.Publish {
	c.t.Helper()
	c.Send(mqtt.AppendPingreq(nil))
	var out []*mqtt.Publish
	for {
		p := c.Next(DefaultWait)
		switch p.Type {
		case mqtt.PINGRESP:
			return out
		case mqtt.PUBLISH:
			pub := &mqtt.Publish{}
			if err := mqtt.DecodePublish(c.Version, p.Flags, p.Body, pub); err != nil {
				c.t.Fatalf("brokertest: PUBLISH: %v", err)
			}
			c.Ack(pub)
			out = append(out, pub)
		default:
			c.t.Fatalf("brokertest: got %s (body % x) while draining, want PUBLISH or PINGRESP", p.Type, p.Body)
		}
	}
}
