package broker_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// withAppProps sets the application properties a broker must forward.
func withAppProps(p *mqtt.Publish) {
	p.Props.PayloadFormat = 1
	p.Props.Set(mqtt.PropPayloadFormat)
	p.Props.MessageExpiry = 100
	p.Props.Set(mqtt.PropMessageExpiry)
	p.Props.ContentType = []byte("application/json")
	p.Props.ResponseTopic = []byte("reply/here")
	p.Props.CorrelationData = []byte{0, 1, 2, 0xff}
	p.Props.UserProperties = []mqtt.UserProperty{
		{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: []byte("2")}, {Key: []byte("a"), Value: []byte("3")},
	}
}

// userProps renders user properties as "k=v" strings, in order.
func userProps(p *mqtt.Publish) []string {
	var out []string
	for _, u := range p.Props.UserProperties {
		out = append(out, string(u.Key)+"="+string(u.Value))
	}
	return out
}

// TestE2EPropertiesForwarded: payload format, content type, response topic,
// correlation data and user properties (in order) reach MQTT 5 subscribers
// unchanged, the message expiry at most what was sent [MQTT-3.3.2-4]
// [MQTT-3.3.2-15] [MQTT-3.3.2-16] [MQTT-3.3.2-18]; the publisher's topic
// alias does not [MQTT-3.3.2-12]. MQTT 3.1.1 subscribers get the message.
func TestE2EPropertiesForwarded(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{})
		sub5 := client(t, srv, mqtt.V5, "sub5")
		subscribe(t, sub5, 1, "props/#")
		sub3 := client(t, srv, mqtt.V311, "sub3")
		subscribe(t, sub3, 1, "props/#")
		pub := client(t, srv, mqtt.V5, "pub")

		for qos := mqtt.QoS(0); qos <= 1; qos++ {
			payload := fmt.Sprintf(`{"qos":%d}`, qos)
			pub.PublishFlow("props/t", payload, qos, false, 1, func(p *mqtt.Publish) {
				withAppProps(p)
				p.Props.TopicAlias = 1
				p.Props.Set(mqtt.PropTopicAlias)
			})
			pub.Sync()
			got := expectMessage(t, sub5, "props/t", payload, qos)
			pp := &got.Props
			switch {
			case !pp.Has(mqtt.PropPayloadFormat) || pp.PayloadFormat != 1:
				t.Errorf("QoS %d: payload format not forwarded", qos)
			case string(pp.ContentType) != "application/json" || string(pp.ResponseTopic) != "reply/here":
				t.Errorf("QoS %d: content type %q, response topic %q", qos, pp.ContentType, pp.ResponseTopic)
			case !bytes.Equal(pp.CorrelationData, []byte{0, 1, 2, 0xff}):
				t.Errorf("QoS %d: correlation data % x", qos, pp.CorrelationData)
			case !slices.Equal(userProps(got), []string{"a=1", "b=2", "a=3"}):
				t.Errorf("QoS %d: user properties %v, want [a=1 b=2 a=3] in order", qos, userProps(got))
			case !pp.Has(mqtt.PropMessageExpiry) || pp.MessageExpiry == 0 || pp.MessageExpiry > 100:
				t.Errorf("QoS %d: message expiry present=%v %d, want 1..100", qos, pp.Has(mqtt.PropMessageExpiry), pp.MessageExpiry)
			case pp.Has(mqtt.PropTopicAlias):
				t.Errorf("QoS %d: the publisher's topic alias %d was forwarded", qos, pp.TopicAlias)
			}
			expectMessage(t, sub3, "props/t", payload, qos)
		}
	})
}

// TestE2EMessageExpiry: a message waiting in an offline session is sent with
// its expiry interval less the time it waited [MQTT-3.3.2-6]; one whose
// expiry passed is not sent at all [MQTT-3.3.2-5], nor is an expired
// retained message; messages without expiry keep none.
func TestE2EMessageExpiry(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{Grace: 30 * time.Second})
		pub := client(t, srv, mqtt.V5, "pub")
		sub, _ := persistent(t, srv, mqtt.V5, "patient", nil)
		subscribe(t, sub, 1, "exp/#")
		lose(t, srv, sub, "patient")

		expiring := func(seconds uint32) func(*mqtt.Publish) {
			return func(p *mqtt.Publish) { p.Props.MessageExpiry = seconds; p.Props.Set(mqtt.PropMessageExpiry) }
		}
		pub.PublishFlow("exp/t", "short", 1, false, 1, expiring(1))
		pub.PublishFlow("exp/t", "long", 1, false, 2, expiring(30))
		pub.PublishFlow("exp/t", "forever", 1, false, 3, nil)
		pub.PublishFlow("exp/retained", "stale", 1, true, 4, expiring(1))
		queuedAt := time.Now()
		time.Sleep(2100 * time.Millisecond) // time passing is what is tested

		sub, present := persistent(t, srv, mqtt.V5, "patient", nil)
		if !present {
			t.Fatalf("session present 0")
		}
		waited := uint32(time.Since(queuedAt) / time.Second)
		long := expectMessage(t, sub, "exp/t", "long", 1)
		if got := long.Props.MessageExpiry; !long.Props.Has(mqtt.PropMessageExpiry) || got > 30-2 || got < 30-waited-1 {
			t.Errorf("message expiry 30 after waiting %v: sent as %d, want %d", time.Since(queuedAt), got, 30-waited)
		}
		if forever := expectMessage(t, sub, "exp/t", "forever", 1); forever.Props.Has(mqtt.PropMessageExpiry) {
			t.Errorf("message without expiry sent with expiry %d", forever.Props.MessageExpiry)
		}
		sub.Sync() // the expired ones (queued "short", retained "stale") did not come
		srv.WaitStats("expired messages counted", logWait, func(s broker.Stats) bool { return s.DroppedExpired >= 2 })

		late := client(t, srv, mqtt.V5, "late")
		subscribe(t, late, 1, "exp/#")
		late.Sync() // the expired retained message is not sent to new subscriptions
	})
}

// TestE2ENoLocal: with No Local, a client does not receive its own messages
// on that subscription [MQTT-3.8.3-3]; it does receive others', and without
// No Local its own too.
func TestE2ENoLocal(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{})
		self := client(t, srv, mqtt.V5, "self")
		subscribeWith(t, self, 1, "nl/#", func(s *mqtt.Subscribe) { s.Filters[0].NoLocal = true })
		other := client(t, srv, mqtt.V5, "other")
		subscribe(t, other, 1, "nl/#")

		if got := publishRouted(t, self, "nl/t", "mine"); got != mqtt.Success {
			t.Fatalf("PUBACK %s", got)
		}
		expectMessage(t, other, "nl/t", "mine", 1)
		self.Sync() // not to itself

		publishRouted(t, other, "nl/t", "yours")
		expectMessage(t, self, "nl/t", "yours", 1)
		expectMessage(t, other, "nl/t", "yours", 1) // other has no No Local

		// A second, overlapping subscription without No Local lets it through.
		subscribe(t, self, 1, "nl/t")
		publishRouted(t, self, "nl/t", "mine again")
		expectMessage(t, self, "nl/t", "mine again", 1)
		expectMessage(t, other, "nl/t", "mine again", 1)
		self.Sync()
	})
}

// withSubID sets a SUBSCRIBE's subscription identifier.
func withSubID(id uint32) func(*mqtt.Subscribe) {
	return func(s *mqtt.Subscribe) { s.Props.SubscriptionIDs = []uint32{id} }
}

// TestE2ESubscriptionIdentifiers: deliveries carry the identifiers of the
// matching subscriptions [MQTT-3.3.4-3]; overlapping subscriptions give one
// delivery at their highest QoS with all their identifiers [MQTT-3.3.4-2]
// [MQTT-3.3.4-5]; retained messages sent for a SUBSCRIBE carry its
// identifier.
func TestE2ESubscriptionIdentifiers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{})
		pub := client(t, srv, mqtt.V5, "pub")
		pub.PublishFlow("si/r", "retained", 1, true, 1, nil)
		sub := client(t, srv, mqtt.V5, "sub")
		subscribeWith(t, sub, 0, "si/+", withSubID(5))
		if p := sub.ExpectPublish(); string(p.Payload) != "retained" || !slices.Equal(p.Props.SubscriptionIDs, []uint32{5}) {
			t.Fatalf("retained %q for subscription 5: identifiers %v", p.Payload, p.Props.SubscriptionIDs)
		}
		subscribeWith(t, sub, 1, "si/t", withSubID(7))
		subscribe(t, sub, 0, "si/#")
		sub.ExpectPublish() // the retained message again, for si/# (no identifier)

		for _, tc := range []struct {
			topic string
			qos   mqtt.QoS
			ids   []uint32
		}{{"si/t", 1, []uint32{5, 7}}, {"si/u", 0, []uint32{5}}, {"si/x/y", 0, nil}} {
			publishRouted(t, pub, tc.topic, "x")
			p := expectMessage(t, sub, tc.topic, "x", tc.qos)
			ids := slices.Sorted(slices.Values(p.Props.SubscriptionIDs))
			if !slices.Equal(ids, tc.ids) {
				t.Errorf("%s: subscription identifiers %v, want %v", tc.topic, ids, tc.ids)
			}
			sub.Sync() // one delivery, not one per subscription
		}
	})
}

// TestE2EOverlappingSubscriptions: a client whose subscriptions overlap gets
// one copy of a message, at the highest QoS granted [MQTT-3.3.4-2].
func TestE2EOverlappingSubscriptions(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{})
		sub := client(t, srv, v, "sub")
		subscribe(t, sub, 0, "ov/+")
		subscribe(t, sub, 2, "ov/t")
		subscribe(t, sub, 1, "#")
		pub := client(t, srv, v, "pub")
		pub.PublishFlow("ov/t", "once", 2, false, 1, nil)
		expectMessage(t, sub, "ov/t", "once", 2)
		sub.Sync()
	})
}

// TestE2ETopicAliasInbound: a client may set topic aliases up to the
// broker's Topic Alias Maximum (told in CONNACK) and publish with an empty
// topic and an alias [MQTT-3.3.2-12]; an alias may be remapped. Alias 0 or
// over the maximum is closed with 0x94 [MQTT-3.3.2-8] [MQTT-3.3.2-9]; an
// unknown alias with an empty topic with 0x82. Aliases do not outlive the
// connection.
func TestE2ETopicAliasInbound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{TopicAliasMaximum: 4})
		sub := client(t, srv, mqtt.V5, "sub")
		subscribe(t, sub, 1, "al/#")
		pub, ack := connect(t, srv, mqtt.V5, "pub", true, nil)
		if ack.Props.TopicAliasMaximum != 4 {
			t.Fatalf("CONNACK topic alias maximum %d, want 4", ack.Props.TopicAliasMaximum)
		}
		alias := func(n uint16) func(*mqtt.Publish) {
			return func(p *mqtt.Publish) { p.Props.TopicAlias = n; p.Props.Set(mqtt.PropTopicAlias) }
		}
		steps := []struct{ topic, routed string }{{"al/t", "al/t"}, {"", "al/t"}, {"al/u", "al/u"}, {"", "al/u"}}
		for i, s := range steps {
			payload := fmt.Sprintf("step %d", i)
			pub.PublishFlow(s.topic, payload, 1, false, uint16(i+1), alias(1))
			expectMessage(t, sub, s.routed, payload, 1)
		}
		pub.Publish("al/v", "x", 0, false, 0, alias(4)) // the maximum is allowed
		expectMessage(t, sub, "al/v", "x", 0)

		for _, tc := range []struct {
			name   string
			topic  string
			alias  uint16
			reason mqtt.ReasonCode
		}{
			{"alias 0", "al/t", 0, mqtt.TopicAliasInvalid},
			{"alias over the maximum", "al/t", 5, mqtt.TopicAliasInvalid},
			{"unknown alias", "", 2, mqtt.ProtocolError},
			{"alias of a previous connection", "", 1, mqtt.ProtocolError},
		} {
			c := client(t, srv, mqtt.V5, "aliaser")
			c.Publish(tc.topic, "x", 0, false, 0, alias(tc.alias))
			expectDisconnect(t, c, tc.reason)
		}
		sub.Sync()
	})
}

// TestE2ETopicAliasOutbound: to a client that accepts topic aliases (Topic
// Alias Maximum in CONNECT), the broker may send aliases up to that maximum
// [MQTT-3.3.2-10]: the first delivery of a topic names it and sets the alias,
// later ones may send only the alias. A client that accepts none gets none
// [MQTT-3.3.2-11].
func TestE2ETopicAliasOutbound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{})
		aliased, _ := connect(t, srv, mqtt.V5, "aliased", true, func(cp *mqtt.Connect) {
			cp.Props.TopicAliasMaximum = 2
			cp.Props.Set(mqtt.PropTopicAliasMaximum)
		})
		subscribe(t, aliased, 1, "ao/#")
		plain := client(t, srv, mqtt.V5, "plain")
		subscribe(t, plain, 1, "ao/#")
		pub := client(t, srv, mqtt.V5, "pub")

		known, shortened := map[uint16]string{}, 0
		for i, topic := range []string{"ao/1", "ao/1", "ao/2", "ao/3", "ao/1", "ao/3", "ao/2"} {
			payload := fmt.Sprintf("m%d", i)
			qos := mqtt.QoS(i % 2)
			pub.PublishFlow(topic, payload, qos, false, uint16(i+1), nil)
			pub.Sync()
			p := aliased.ExpectPublish()
			aliased.Ack(p)
			resolved := string(p.Topic)
			if p.Props.Has(mqtt.PropTopicAlias) {
				a := p.Props.TopicAlias
				if a == 0 || a > 2 {
					t.Fatalf("%s: alias %d outside 1..2", topic, a)
				}
				if resolved == "" {
					resolved = known[a]
					shortened++
				} else {
					known[a] = resolved
				}
			}
			if resolved != topic || string(p.Payload) != payload {
				t.Fatalf("delivery %d: topic %q (alias %d) resolves to %q with %q, want %s %q",
					i, p.Topic, p.Props.TopicAlias, resolved, p.Payload, topic, payload)
			}
			if q := expectMessage(t, plain, topic, payload, qos); q.Props.Has(mqtt.PropTopicAlias) {
				t.Fatalf("client without Topic Alias Maximum got alias %d", q.Props.TopicAlias)
			}
		}
		if len(known) == 0 || shortened == 0 {
			t.Errorf("the broker set %d topic aliases and sent %d deliveries by alias only, towards a client that accepts 2",
				len(known), shortened)
		}
	})
}
