package broker

import (
	"slices"

	"github.com/pubsubx/pubsubx/core/mqtt"
	"github.com/pubsubx/pubsubx/core/session"
	"github.com/pubsubx/pubsubx/core/topics"
)

// retainedRequest is a filter whose retained messages are due after SUBACK.
type retainedRequest struct {
	filter []byte
	qos    mqtt.QoS
	rap    bool
	subIDs []uint32
}

// handleSubscribe adds the client's subscriptions (replacing the options of
// existing ones [MQTT-3.8.4-3]), answers SUBACK with a reason per filter
// [MQTT-3.8.4-6], then sends the retained messages the retain handling
// option asks for.
func (c *conn) handleSubscribe(ws *workspace, body []byte) error {
	sp := &ws.sub
	if err := mqtt.DecodeSubscribe(c.version, body, sp); err != nil {
		return err
	}
	s, b := c.session(), c.b
	var subID uint32
	var subIDs []uint32
	if len(sp.Props.SubscriptionIDs) > 0 {
		subID = sp.Props.SubscriptionIDs[0]
		subIDs = []uint32{subID}
	}
	reasons := ws.reasons[:0]
	var retained []retainedRequest
	for _, f := range sp.Filters {
		_, _, shared := mqtt.ParseShared(f.Filter)
		if shared && f.NoLocal {
			return errProtocol("No Local on a shared subscription") // [MQTT-3.8.3-4]
		}
		if id := s.ident.Load(); b.cfg.ACL != nil && !b.cfg.ACL.CanSubscribe(id.clientID, id.username, id.hasUsername, f.Filter) {
			reasons = append(reasons, failureCode(c.version, mqtt.NotAuthorized))
			b.log.Warnf("Client %s: subscription to %s denied by the ACL", c.session().id, f.Filter)
			continue
		}
		granted := min(f.QoS, 2)
		s.mu.Lock()
		if s.owner != c {
			s.mu.Unlock()
			return nil // taken over meanwhile: this connection no longer speaks for the session
		}
		if len(s.filters) >= b.cfg.MaxSubscriptions && !slices.Contains(s.filters, string(f.Filter)) {
			s.mu.Unlock()
			reasons = append(reasons, failureCode(c.version, mqtt.QuotaExceeded))
			b.log.Warnf("Client %s: subscription to %s refused: %d subscriptions already (-max-subscriptions)", s.id, f.Filter, len(s.filters))
			continue
		}
		existed := b.subs.Subscribe(f.Filter, topics.Sub[*clientSession]{
			Subscriber: s, QoS: byte(granted), NoLocal: f.NoLocal, RetainAsPublished: f.RetainAsPublished, ID: subID,
		})
		if !existed {
			s.filters = append(s.filters, string(f.Filter))
		}
		s.mu.Unlock()
		reasons = append(reasons, mqtt.ReasonCode(granted))
		b.log.Infof("Client %s subscribed to %s (QoS %d)", c.session().id, f.Filter, granted)
		if !shared && (f.RetainHandling == 0 || f.RetainHandling == 1 && !existed) { // [MQTT-3.3.1-9, 3.3.1-10]
			retained = append(retained, retainedRequest{filter: f.Filter, qos: granted, rap: f.RetainAsPublished, subIDs: subIDs})
		}
	}
	ws.reasons = reasons
	ack := mqtt.Suback{PacketID: sp.PacketID, Reasons: reasons}
	if err := c.send(ws, mqtt.AppendSuback(ws.out[:0], c.version, &ack)); err != nil {
		return err
	}
	for _, r := range retained {
		c.sendRetained(ws, r)
	}
	return nil
}

// failureCode is code in MQTT 5 and the generic failure 0x80 in 3.1.1.
func failureCode(v mqtt.Version, code mqtt.ReasonCode) mqtt.ReasonCode {
	if v == mqtt.V5 {
		return code
	}
	return mqtt.V311SubackFailure
}

// sendRetained delivers the retained messages matching a new subscription,
// with RETAIN set [MQTT-3.3.1-8], through the session so they stay in order
// with other deliveries.
func (c *conn) sendRetained(ws *workspace, r retainedRequest) {
	var found []*session.Message
	c.b.retained.MatchFilter(r.filter, func(_ string, m *session.Message) bool {
		found = append(found, m)
		return true
	})
	for _, m := range found {
		if c.b.cfg.ACL != nil && !c.session().canReceive(m.Topic) {
			continue
		}
		c.session().deliverQueued(ws, session.Delivery{Msg: m, QoS: min(m.QoS, r.qos), Retain: true, SubIDs: r.subIDs})
	}
}

// handleUnsubscribe removes subscriptions and answers UNSUBACK, with a reason
// per filter in MQTT 5 [MQTT-3.11.3-1].
func (c *conn) handleUnsubscribe(ws *workspace, body []byte) error {
	up := &ws.unsub
	if err := mqtt.DecodeUnsubscribe(c.version, body, up); err != nil {
		return err
	}
	s, b := c.session(), c.b
	reasons := ws.reasons[:0]
	for _, f := range up.Filters {
		s.mu.Lock()
		if s.owner != c {
			s.mu.Unlock()
			return nil
		}
		found := b.subs.Unsubscribe(f, s)
		if found {
			if i := slices.Index(s.filters, string(f)); i >= 0 {
				s.filters = slices.Delete(s.filters, i, i+1)
			}
		}
		s.mu.Unlock()
		if found {
			reasons = append(reasons, mqtt.Success)
			b.log.Infof("Client %s unsubscribed from %s", c.session().id, f)
		} else {
			reasons = append(reasons, mqtt.NoSubscriptionExisted)
		}
	}
	ws.reasons = reasons
	ack := mqtt.Unsuback{PacketID: up.PacketID}
	if c.version == mqtt.V5 {
		ack.Reasons = reasons
	}
	return c.send(ws, mqtt.AppendUnsuback(ws.out[:0], c.version, &ack))
}
