package client

import (
	"context"
	"unsafe"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

// The writer. Every packet is encoded straight into c.out under c.mu, and
// written by whoever flushes: the flusher takes the whole buffer, drops the
// lock for the write system call, and loops until out is empty, so packets
// appended meanwhile (by other publishers, or acknowledgements from the
// reader) ride along in the next write. A goroutine that needs its bytes
// written (flushTo) waits until the byte counter passes its mark, writing
// itself when nobody else is; the reader and the keep-alive goroutine only
// kick a flush (kickFlush) and never wait for another writer, so a slow
// socket never stops the reading of acknowledgements.

// PublishOptions are the options of one message.
type PublishOptions struct {
	QoS    mqtt.QoS
	Retain bool
	// Props are the MQTT 5 properties to send (Payload Format, Message
	// Expiry, Content Type, Response Topic, Correlation Data, User
	// Properties, Topic Alias); nil sends none. Read during the call only.
	Props *mqtt.Properties
}

// Publish sends payload to topic. At QoS 0 it returns once the message is
// written (or buffered, with Options.ManualFlush); at QoS 1 and 2 once the
// server acknowledged it (PUBACK, or PUBCOMP), waiting first for a free
// slot in the server's Receive Maximum. A failure code in the
// acknowledgement returns a *ReasonError. topic and payload are read during
// the call only. ctx bounds the waits; when it ends first, the message may
// still be delivered.
func (c *Client) Publish(ctx context.Context, topic string, payload []byte, o PublishOptions) error {
	p, err := c.publish(ctx, topic, payload, &o, true)
	if err != nil || o.QoS == 0 {
		return err
	}
	return p.Wait(ctx)
}

// PublishAsync is Publish without waiting for the acknowledgement: the
// returned Pending completes when it arrives (at once for QoS 0). It still
// waits (bounded by ctx) for a slot in the server's Receive Maximum. With
// Options.ManualFlush the packet stays buffered until Flush.
func (c *Client) PublishAsync(ctx context.Context, topic string, payload []byte, o PublishOptions) (*Pending, error) {
	return c.publish(ctx, topic, payload, &o, false)
}

func (c *Client) publish(ctx context.Context, topic string, payload []byte, o *PublishOptions, wait bool) (*Pending, error) {
	pub := mqtt.Publish{QoS: o.QoS, Retain: o.Retain, Topic: stringBytes(topic), Payload: payload}
	if o.Props != nil && c.version == mqtt.V5 {
		pub.Props = *o.Props
	}
	if err := c.checkPublish(&pub); err != nil {
		return nil, err
	}
	if pub.QoS == 0 {
		c.mu.Lock()
		if c.closing {
			err := c.cause
			c.mu.Unlock()
			return nil, err
		}
		before := len(c.out)
		c.out = mqtt.AppendPublish(c.out, c.version, &pub)
		mark := c.grewLocked(before)
		full := len(c.out) >= c.opts.WriteBufferSize
		c.mu.Unlock()
		if c.opts.ManualFlush && !full {
			return completed, nil
		}
		return completed, c.flushTo(mark)
	}

	if err := c.acquireSlot(ctx); err != nil {
		return nil, err
	}
	p := &Pending{kind: mqtt.PUBLISH, qos: pub.QoS, done: make(chan struct{})}
	c.mu.Lock()
	id, err := c.registerLocked(p)
	if err != nil {
		c.mu.Unlock()
		<-c.inflight
		return nil, err
	}
	pub.PacketID = id
	before := len(c.out)
	c.out = mqtt.AppendPublish(c.out, c.version, &pub)
	mark := c.grewLocked(before)
	full := len(c.out) >= c.opts.WriteBufferSize
	c.mu.Unlock()
	if !wait && c.opts.ManualFlush && !full {
		return p, nil
	}
	return p, c.flushTo(mark)
}

// checkPublish refuses what the protocol or the server's CONNACK forbids,
// before it reaches the server (which would close the connection).
func (c *Client) checkPublish(p *mqtt.Publish) error {
	switch {
	case p.QoS > 2:
		return ErrInvalidQoS
	case p.QoS > c.limits.maximumQoS:
		return ErrQoSNotSupported
	case p.Retain && !c.limits.retainAvailable:
		return ErrRetainNotSupported
	}
	aliased := c.version == mqtt.V5 && p.Props.Has(mqtt.PropTopicAlias)
	if aliased && p.Props.TopicAlias > c.limits.topicAliasMaximum {
		return &ReasonError{Packet: mqtt.PUBLISH, Code: mqtt.TopicAliasInvalid, Version: c.version} // [MQTT-3.3.2-9]
	}
	if !(aliased && len(p.Topic) == 0) && mqtt.ValidTopicName(p.Topic) != nil {
		return ErrInvalidTopic
	}
	if max := c.limits.maximumPacketSize; max > 0 && uint64(mqtt.PublishSize(c.version, p)) > uint64(max) {
		return ErrPacketTooLarge
	}
	return nil
}

// acquireSlot takes one of the server's Receive Maximum slots.
func (c *Client) acquireSlot(ctx context.Context) error {
	select {
	case c.inflight <- struct{}{}:
		return nil
	default:
	}
	select {
	case c.inflight <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.Err()
	}
}

// Flush writes everything buffered so far (publishes held by
// Options.ManualFlush) and returns when it is written.
func (c *Client) Flush() error {
	c.mu.Lock()
	mark := c.appended
	c.mu.Unlock()
	return c.flushTo(mark)
}

// Buffered returns the number of bytes waiting to be written.
func (c *Client) Buffered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.out)
}

// flushTo returns once the first mark bytes ever appended are written,
// writing them itself unless another goroutine is.
func (c *Client) flushTo(mark uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.written < mark {
		switch {
		case c.writeErr != nil:
			return c.writeErr
		case c.flushing:
			c.flushed.Wait()
		default:
			c.writeOutLocked()
		}
	}
	return c.writeErr
}

// kickFlush writes what is buffered unless another goroutine is writing
// (it will write these bytes too). It never waits for another writer.
func (c *Client) kickFlush() {
	c.mu.Lock()
	if !c.flushing && c.writeErr == nil && len(c.out) > 0 {
		c.writeOutLocked()
	}
	c.mu.Unlock()
}

// writeOutLocked writes out until it is empty. It is called with c.mu held
// and returns with it held, releasing it during each write.
func (c *Client) writeOutLocked() {
	c.flushing = true
	for len(c.out) > 0 && c.writeErr == nil {
		buf := c.out
		c.out = c.spare[:0]
		c.mu.Unlock()
		_, err := c.conn.Write(buf)
		c.mu.Lock()
		c.spare = buf[:0]
		c.written += uint64(len(buf))
		if err != nil {
			c.writeErr = lost(err)
			if c.closing {
				c.writeErr = c.cause
			}
			c.failLocked(c.writeErr)
		}
	}
	c.flushing = false
	c.flushed.Broadcast()
}

// stringBytes returns s's bytes without copying, for the encoder, which
// only reads them.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
