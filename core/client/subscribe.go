package client

import (
	"context"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

// Subscription is one topic filter to subscribe to, with its options.
type Subscription struct {
	Filter string
	QoS    mqtt.QoS // the maximum QoS of the messages delivered
	// NoLocal: do not receive this client's own publishes (MQTT 5).
	NoLocal bool
	// RetainAsPublished: keep the RETAIN flag of forwarded messages (MQTT 5).
	RetainAsPublished bool
	// RetainHandling (MQTT 5): 0 send retained messages at subscribe, 1 only
	// if the subscription is new, 2 never.
	RetainHandling byte
}

// Subscribe subscribes to one or many filters and returns the SUBACK's
// reason codes, one per filter: the granted QoS (which may be below the
// one asked), or a failure code. If a filter was refused, the error is a
// *ReasonError naming the first refused filter (the codes are returned
// too). Messages may arrive before Subscribe returns.
func (c *Client) Subscribe(ctx context.Context, subs ...Subscription) ([]mqtt.ReasonCode, error) {
	return c.SubscribeWithID(ctx, 0, subs...)
}

// SubscribeWithID is Subscribe with an MQTT 5 Subscription Identifier
// (1 to 268435455; 0 for none): messages matching these subscriptions
// carry it in Message.SubscriptionIDs.
func (c *Client) SubscribeWithID(ctx context.Context, id uint32, subs ...Subscription) ([]mqtt.ReasonCode, error) {
	p, err := c.SubscribeAsync(id, subs...)
	if err != nil {
		return nil, err
	}
	if err := p.Wait(ctx); err != nil {
		return p.Reasons(), err
	}
	return p.Reasons(), nil
}

// SubscribeAsync sends SUBSCRIBE (with Subscription Identifier id unless
// 0) and returns without waiting for SUBACK: the Pending's Reasons and Err
// tell the outcome. It is the form to use from a Handler.
func (c *Client) SubscribeAsync(id uint32, subs ...Subscription) (*Pending, error) {
	if len(subs) == 0 {
		return nil, ErrNoFilters
	}
	s := mqtt.Subscribe{Filters: make([]mqtt.Subscription, len(subs))}
	p := &Pending{kind: mqtt.SUBSCRIBE, filters: make([]string, len(subs)), done: make(chan struct{})}
	for i, sub := range subs {
		if mqtt.ValidTopicFilter([]byte(sub.Filter)) != nil {
			return nil, ErrInvalidFilter
		}
		if sub.QoS > 2 || sub.RetainHandling > 2 {
			return nil, ErrInvalidQoS
		}
		s.Filters[i] = mqtt.Subscription{Filter: []byte(sub.Filter), QoS: sub.QoS, NoLocal: sub.NoLocal,
			RetainAsPublished: sub.RetainAsPublished, RetainHandling: sub.RetainHandling}
		p.filters[i] = sub.Filter
	}
	if id > 0 && c.version == mqtt.V5 {
		s.Props.SubscriptionIDs = []uint32{id}
	}
	err := c.send(p, func(dst []byte, pid uint16) []byte {
		s.PacketID = pid
		return mqtt.AppendSubscribe(dst, c.version, &s)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Unsubscribe removes subscriptions. In MQTT 5 a filter the server refused
// to remove returns a *ReasonError; "no subscription existed" is not an
// error (Pending.Reasons of UnsubscribeAsync tells it).
func (c *Client) Unsubscribe(ctx context.Context, filters ...string) error {
	p, err := c.UnsubscribeAsync(filters...)
	if err != nil {
		return err
	}
	return p.Wait(ctx)
}

// UnsubscribeAsync sends UNSUBSCRIBE without waiting for UNSUBACK.
func (c *Client) UnsubscribeAsync(filters ...string) (*Pending, error) {
	if len(filters) == 0 {
		return nil, ErrNoFilters
	}
	u := mqtt.Unsubscribe{Filters: make([][]byte, len(filters))}
	for i, f := range filters {
		if mqtt.ValidTopicFilter([]byte(f)) != nil {
			return nil, ErrInvalidFilter
		}
		u.Filters[i] = []byte(f)
	}
	p := &Pending{kind: mqtt.UNSUBSCRIBE, filters: append([]string(nil), filters...), done: make(chan struct{})}
	err := c.send(p, func(dst []byte, pid uint16) []byte {
		u.PacketID = pid
		return mqtt.AppendUnsubscribe(dst, c.version, &u)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// send registers p under a new packet identifier, appends the packet that
// encode writes with it, and flushes. The write is bounded by the
// connection itself (keep-alive, Close).
func (c *Client) send(p *Pending, encode func(dst []byte, id uint16) []byte) error {
	c.mu.Lock()
	id, err := c.registerLocked(p)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	before := len(c.out)
	c.out = encode(c.out, id)
	mark := c.grewLocked(before)
	c.mu.Unlock()
	return c.flushTo(mark)
}
