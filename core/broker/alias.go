package broker

import (
	"time"
	"unsafe"

	"github.com/pubsubx/pubsubx/core/mqtt"
	"github.com/pubsubx/pubsubx/core/session"
)

// resolveTopicAlias applies an inbound MQTT 5 Topic Alias: a PUBLISH with a
// topic and an alias sets the alias; one with an empty topic uses it
// [MQTT-3.3.2-7..12]. Aliases live for the connection.
func (c *conn) resolveTopicAlias(p *mqtt.Publish) error {
	if !p.Props.Has(mqtt.PropTopicAlias) {
		if len(p.Topic) == 0 {
			return &mqtt.Error{Code: mqtt.ProtocolError, Msg: "empty topic without a topic alias"}
		}
		return nil
	}
	alias := int(p.Props.TopicAlias)
	if alias == 0 || alias > int(c.b.cfg.TopicAliasMaximum) {
		return &mqtt.Error{Code: mqtt.TopicAliasInvalid, Msg: "topic alias out of range"} // [MQTT-3.3.2-9]
	}
	if c.aliasIn == nil {
		c.aliasIn = new([]string)
	}
	aliases := *c.aliasIn
	if len(p.Topic) > 0 {
		if alias > len(aliases) {
			grown := make([]string, alias)
			copy(grown, aliases)
			*c.aliasIn, aliases = grown, grown
		}
		if aliases[alias-1] != string(p.Topic) {
			aliases[alias-1] = string(p.Topic)
		}
		return nil
	}
	if alias > len(aliases) || aliases[alias-1] == "" {
		return &mqtt.Error{Code: mqtt.ProtocolError, Msg: "unknown topic alias"}
	}
	// A read-only view of the string: the codec and router never write to it.
	p.Topic = stringBytes(aliases[alias-1])
	return nil
}

// stringBytes returns s's bytes without copying; callers must not modify them.
func stringBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// outboundAliases are the topic aliases the broker set towards one MQTT 5
// client (up to the client's Topic Alias Maximum). Guarded by the session's
// mutex: every delivery to such a client goes through its session.
type outboundAliases struct {
	max    uint16
	topics map[string]uint16
}

// aliasAssignment is an alias chosen for a new topic, recorded only once the
// PUBLISH carrying it was accepted by the connection.
type aliasAssignment struct {
	topic []byte
	alias uint16
}

// commit records the assignment on c.
func (a aliasAssignment) commit(c *conn) {
	if a.alias == 0 {
		return
	}
	if c.aliasOut.topics == nil {
		c.aliasOut.topics = make(map[string]uint16)
	}
	c.aliasOut.topics[string(a.topic)] = a.alias
}

// encodeDelivery encodes d for c into ws.out: packet identifier id (QoS >
// 0), DUP when resending, and for MQTT 5 the forwarded properties, the
// remaining message expiry [MQTT-3.3.2-6], the subscription identifiers and
// a topic alias when c accepts them. The returned assignment must be
// committed once the packet is written.
func (ws *workspace) encodeDelivery(c *conn, d session.Delivery, id uint16, dup bool) ([]byte, aliasAssignment) {
	m, p := d.Msg, &ws.outPub
	p.Dup, p.QoS, p.Retain, p.PacketID = dup, d.QoS, d.Retain, id
	p.Topic, p.Payload = m.Topic, m.Payload
	p.Props.Reset()
	var assign aliasAssignment
	if c.version == mqtt.V5 {
		forwardProps(&p.Props, &m.Props)
		if left, ok := m.RemainingExpiry(time.Now()); ok {
			p.Props.MessageExpiry = left
			p.Props.Set(mqtt.PropMessageExpiry)
		}
		p.Props.SubscriptionIDs = append(p.Props.SubscriptionIDs, d.SubIDs...)
		if a := c.aliasOut; a != nil {
			if alias, ok := a.topics[string(m.Topic)]; ok {
				p.Topic = m.Topic[:0]
				p.Props.TopicAlias = alias
				p.Props.Set(mqtt.PropTopicAlias)
			} else if len(a.topics) < int(a.max) {
				assign = aliasAssignment{topic: m.Topic, alias: uint16(len(a.topics) + 1)}
				p.Props.TopicAlias = assign.alias
				p.Props.Set(mqtt.PropTopicAlias)
			}
		}
	}
	ws.out = mqtt.AppendPublish(ws.out[:0], c.version, p)
	return ws.out, assign
}
