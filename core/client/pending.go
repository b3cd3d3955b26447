package client

import (
	"context"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

// Pending is an operation waiting for the server's answer: a QoS 1 or 2
// publish, a subscribe or an unsubscribe. Its methods are safe for
// concurrent use; once Done is closed, Err and Reasons do not change.
type Pending struct {
	kind     mqtt.Type // PUBLISH, SUBSCRIBE or UNSUBSCRIBE
	qos      mqtt.QoS  // of a PUBLISH
	released bool      // a QoS 2 PUBLISH got its PUBREC, PUBREL was sent; guarded by Client.mu
	filters  []string  // of a SUBSCRIBE or UNSUBSCRIBE, for errors
	done     chan struct{}
	err      error
	reasons  []mqtt.ReasonCode
}

// completed is the Pending of a QoS 0 publish: done from the start.
var completed = func() *Pending {
	p := &Pending{kind: mqtt.PUBLISH, done: make(chan struct{})}
	close(p.done)
	return p
}()

// Done returns a channel closed when the answer has arrived or the
// connection has ended.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Err returns the outcome once Done is closed: nil for success, a
// *ReasonError when the server refused (the first refused filter of a
// SUBACK or UNSUBACK), or the connection's end (ErrClosed, or an error
// matching ErrConnectionLost). Before Done is closed it returns nil.
func (p *Pending) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Reasons returns, once Done is closed, the reason codes of a SUBACK (the
// granted QoS or a failure, one per filter) or of an MQTT 5 UNSUBACK. The
// slice is owned by the Pending; do not modify it.
func (p *Pending) Reasons() []mqtt.ReasonCode {
	select {
	case <-p.done:
		return p.reasons
	default:
		return nil
	}
}

// Wait waits until Done is closed or ctx ends, and returns Err or ctx's
// error.
func (p *Pending) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pending) complete(err error) {
	p.err = err
	close(p.done)
}

// registerLocked gives p a free packet identifier and records it until its
// answer arrives. Called with c.mu held.
func (c *Client) registerLocked(p *Pending) (uint16, error) {
	if c.closing {
		return 0, c.cause
	}
	for range 65535 {
		c.nextID++
		if c.nextID == 0 {
			c.nextID = 1 // [MQTT-2.2.1-3]
		}
		if _, busy := c.pending[c.nextID]; !busy {
			c.pending[c.nextID] = p
			return c.nextID, nil
		}
	}
	return 0, ErrNoPacketID
}

// handlePubAck ends or advances an outbound QoS 1 or 2 flow: PUBACK ends
// a QoS 1 flow, PUBCOMP a QoS 2 flow; PUBREC ends a QoS 2 flow on a failure
// code [MQTT-4.3.3-4] and is otherwise answered with PUBREL [MQTT-4.3.3-3],
// also when repeated. Acknowledgements that match no flow are ignored,
// except a successful PUBREC, answered "packet identifier not found". It
// runs on the reader.
func (c *Client) handlePubAck(a *mqtt.Ack) {
	failed := a.Reason.IsError()
	c.mu.Lock()
	p := c.pending[a.PacketID]
	if p != nil && p.kind != mqtt.PUBLISH {
		p = nil
	}
	end, reply := false, mqtt.ReasonCode(0xFF)
	switch a.Type {
	case mqtt.PUBACK:
		end = p != nil && p.qos == 1
	case mqtt.PUBREC:
		switch {
		case p == nil || p.qos != 2:
			if !failed {
				reply = mqtt.PacketIDNotFound
			}
		case failed && !p.released:
			end = true
		case !failed:
			p.released, reply = true, mqtt.Success
		}
	case mqtt.PUBCOMP:
		end = p != nil && p.qos == 2 && p.released
	}
	if end {
		delete(c.pending, a.PacketID)
	}
	c.mu.Unlock()
	if reply != 0xFF {
		c.appendAck(mqtt.PUBREL, a.PacketID, reply)
	}
	if !end {
		return
	}
	<-c.inflight
	var err error
	if failed {
		err = &ReasonError{Packet: a.Type, Code: a.Reason, Version: c.version, ReasonString: string(a.Props.ReasonString)}
	}
	p.complete(err)
}

// handleSubAck completes the SUBSCRIBE or UNSUBSCRIBE (kind) that ack (a
// SUBACK or UNSUBACK) answers with its reason codes. It runs on the reader.
func (c *Client) handleSubAck(kind, ack mqtt.Type, id uint16, reasons []mqtt.ReasonCode, reasonString []byte) {
	c.mu.Lock()
	p := c.pending[id]
	if p == nil || p.kind != kind {
		c.mu.Unlock()
		return
	}
	delete(c.pending, id)
	c.mu.Unlock()
	p.reasons = append([]mqtt.ReasonCode(nil), reasons...)
	var err error
	for i, r := range reasons {
		if r.IsError() {
			e := &ReasonError{Packet: ack, Code: r, Version: c.version, ReasonString: string(reasonString)}
			if i < len(p.filters) {
				e.Filter = p.filters[i]
			}
			err = e
			break
		}
	}
	p.complete(err)
}

// appendAck queues an acknowledgement; the reader flushes at the end of
// its batch.
func (c *Client) appendAck(t mqtt.Type, id uint16, reason mqtt.ReasonCode) {
	a := mqtt.Ack{Type: t, PacketID: id, Reason: reason}
	c.mu.Lock()
	before := len(c.out)
	c.out = mqtt.AppendAck(c.out, c.version, &a)
	c.grewLocked(before)
	c.mu.Unlock()
	c.rd.needFlush = true
}
