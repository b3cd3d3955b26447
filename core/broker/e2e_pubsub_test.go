package broker_test

import (
	"fmt"
	"testing"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// TestE2EPublishSubscribeQoS publishes at each QoS to subscriptions of each
// maximum QoS, for every pair of publisher and subscriber versions: the
// delivery has the smaller QoS [MQTT-3.8.4-8], and both sides complete their
// acknowledgement flows (PUBACK; PUBREC, PUBREL, PUBCOMP) [MQTT-4.3].
func TestE2EPublishSubscribeQoS(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{})
		for _, pubV := range versions {
			for _, subV := range versions {
				name := fmt.Sprintf("pub%s-sub%s", pubV, subV)
				pub := client(t, srv, pubV, name+"-pub")
				sub := client(t, srv, subV, name+"-sub")
				for subQoS := mqtt.QoS(0); subQoS <= 2; subQoS++ {
					subscribe(t, sub, subQoS, fmt.Sprintf("%s/s%d/+", name, subQoS))
				}
				id := uint16(0)
				for subQoS := mqtt.QoS(0); subQoS <= 2; subQoS++ {
					for pubQoS := mqtt.QoS(0); pubQoS <= 2; pubQoS++ {
						id++
						topic := fmt.Sprintf("%s/s%d/p%d", name, subQoS, pubQoS)
						payload := "payload of " + topic
						checkOneFlow(t, pub, sub, topic, payload, pubQoS, min(pubQoS, subQoS), id)
					}
				}
				sub.Sync() // nothing more: each message was delivered once
			}
		}
	})
}

// checkOneFlow publishes one message from pub at pubQoS (packet id id) and
// checks that sub receives it once at wantQoS, completing both flows.
func checkOneFlow(t *testing.T, pub, sub *brokertest.RawClient, topic, payload string, pubQoS, wantQoS mqtt.QoS, id uint16) {
	t.Helper()
	if reason := pub.PublishFlow(topic, payload, pubQoS, false, id, nil); reason != mqtt.Success {
		t.Fatalf("%s at QoS %d: publisher got reason %s", topic, pubQoS, reason)
	}
	p := sub.ExpectPublish()
	switch {
	case string(p.Topic) != topic || string(p.Payload) != payload:
		t.Fatalf("got %s %q, want %s %q", p.Topic, p.Payload, topic, payload)
	case p.QoS != wantQoS:
		t.Fatalf("%s published at QoS %d: delivered at QoS %d, want %d", topic, pubQoS, p.QoS, wantQoS)
	case p.Dup || p.Retain:
		t.Fatalf("%s: first delivery has DUP=%v RETAIN=%v, want both 0", topic, p.Dup, p.Retain)
	case wantQoS > 0 && p.PacketID == 0:
		t.Fatalf("%s: QoS %d delivery without a packet identifier", topic, wantQoS)
	}
	sub.Ack(p)
}

// TestE2ENoMatchingSubscribers checks the MQTT 5 PUBACK and PUBREC reason
// 0x10 for a message nobody subscribed to, and Success for 3.1.1, which has
// no reason codes.
func TestE2ENoMatchingSubscribers(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{})
		pub := client(t, srv, v, "lonely")
		want := byVersion(v, mqtt.NoMatchingSubscribers, mqtt.Success)
		for qos := mqtt.QoS(1); qos <= 2; qos++ {
			if got := pub.PublishFlow("nobody/listens", "x", qos, false, 9, nil); got != want {
				t.Errorf("QoS %d: reason %s, want %s", qos, got, want)
			}
		}
	})
}

// TestE2EQoS2DuplicateRoutedOnce sends a QoS 2 PUBLISH twice (the second
// with DUP) before PUBREL: the broker answers PUBREC both times but routes
// the message once [MQTT-4.3.3-10]. After PUBREL the identifier is free and
// a new PUBLISH with it is a new message. A PUBREL for an unknown identifier
// still gets PUBCOMP (MQTT 5: reason 0x92).
func TestE2EQoS2DuplicateRoutedOnce(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		_, sub, pub := startPair(t, engine, v, broker.Config{}, 2, "exactly/once")

		pub.Publish("exactly/once", "first", 2, false, 7, nil)
		if rec := pub.ExpectAck(mqtt.PUBREC); rec.PacketID != 7 || rec.Reason != mqtt.Success {
			t.Fatalf("PUBREC %d reason %s, want 7 success", rec.PacketID, rec.Reason)
		}
		pub.Publish("exactly/once", "first", 2, false, 7, func(p *mqtt.Publish) { p.Dup = true })
		if rec := pub.ExpectAck(mqtt.PUBREC); rec.PacketID != 7 {
			t.Fatalf("second PUBREC for packet %d, want 7", rec.PacketID)
		}
		expectMessage(t, sub, "exactly/once", "first", 2)
		sub.Sync() // the duplicate was not routed

		pub.SendAck(mqtt.PUBREL, 7)
		if comp := pub.ExpectAck(mqtt.PUBCOMP); comp.PacketID != 7 || comp.Reason != mqtt.Success {
			t.Fatalf("PUBCOMP %d reason %s, want 7 success", comp.PacketID, comp.Reason)
		}
		// The identifier is released: the same id now carries a new message.
		pub.PublishFlow("exactly/once", "second", 2, false, 7, nil)
		expectMessage(t, sub, "exactly/once", "second", 2)
		sub.Sync()

		pub.SendAck(mqtt.PUBREL, 99) // never used
		comp := pub.ExpectAck(mqtt.PUBCOMP)
		want := byVersion(v, mqtt.PacketIDNotFound, mqtt.Success)
		if comp.PacketID != 99 || comp.Reason != want {
			t.Fatalf("PUBCOMP for an unknown id: packet %d reason %s, want 99 %s", comp.PacketID, comp.Reason, want)
		}
	})
}

// TestE2EWildcardsAndDollarTopics checks + and # matching and that
// wildcard filters at the first level do not match topics starting with $
// [MQTT-4.7.2-1], while an explicit $ filter does.
func TestE2EWildcardsAndDollarTopics(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{})
		all := client(t, srv, v, "all")
		subscribe(t, all, 1, "#")
		plus := client(t, srv, v, "plus")
		subscribe(t, plus, 1, "+/status/#")
		dollar := client(t, srv, v, "dollar")
		subscribe(t, dollar, 1, "$app/#")
		pub := client(t, srv, v, "pub")

		publishRouted(t, pub, "$app/status/x", "dollar")
		expectMessage(t, dollar, "$app/status/x", "dollar", 1)
		all.Sync()
		plus.Sync()

		publishRouted(t, pub, "dev/status", "parent") // # matches the parent level too
		expectMessage(t, all, "dev/status", "parent", 1)
		expectMessage(t, plus, "dev/status", "parent", 1)
		dollar.Sync()

		publishRouted(t, pub, "dev/other/status", "miss")
		expectMessage(t, all, "dev/other/status", "miss", 1)
		plus.Sync()
	})
}

// TestE2EResubscribeReplaces: a SUBSCRIBE to a filter the client already has
// replaces the subscription's options [MQTT-3.8.4-3]: one subscription, now
// at the new maximum QoS.
func TestE2EResubscribeReplaces(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{})
		sub := client(t, srv, v, "sub")
		subscribe(t, sub, 0, "again/t")
		subscribe(t, sub, 2, "again/t")
		if st := srv.Broker.Stats(); st.Subscriptions != 1 {
			t.Fatalf("%d subscriptions after subscribing twice to one filter, want 1", st.Subscriptions)
		}
		pub := client(t, srv, v, "pub")
		pub.PublishFlow("again/t", "upgraded", 2, false, 1, nil)
		expectMessage(t, sub, "again/t", "upgraded", 2)
		sub.Sync()
	})
}

// TestE2EPubrecErrorEndsFlow: an MQTT 5 subscriber that answers a QoS 2
// delivery with an error PUBREC ends that flow [MQTT-4.3.3-4]: no PUBREL
// follows, and the packet identifier and in-flight slot are free again (with
// Receive Maximum 1, the next message comes).
func TestE2EPubrecErrorEndsFlow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{})
		sub, _ := connect(t, srv, mqtt.V5, "refuser", true, func(cp *mqtt.Connect) {
			cp.Props.ReceiveMaximum = 1
			cp.Props.Set(mqtt.PropReceiveMaximum)
		})
		subscribe(t, sub, 2, "rec/#")
		pub := client(t, srv, mqtt.V5, "pub")
		pub.PublishFlow("rec/t", "refused", 2, false, 1, nil)
		pub.PublishFlow("rec/t", "next", 2, false, 2, nil)
		first := sub.ExpectPublish()
		sub.Sync() // the window of 1 holds the second back
		sub.Send(mqtt.AppendAck(nil, mqtt.V5, &mqtt.Ack{Type: mqtt.PUBREC, PacketID: first.PacketID, Reason: mqtt.UnspecifiedError}))
		expectMessage(t, sub, "rec/t", "next", 2) // no PUBREL before it
		sub.Sync()
	})
}

// TestE2EDupNotForwarded: the DUP flag of an incoming PUBLISH is not passed
// on to subscribers [MQTT-3.3.1-3].
func TestE2EDupNotForwarded(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		_, sub, pub := startPair(t, engine, v, broker.Config{}, 1, "dup/#")
		pub.PublishFlow("dup/t", "retried", 1, false, 1, func(p *mqtt.Publish) { p.Dup = true })
		if p := expectMessage(t, sub, "dup/t", "retried", 1); p.Dup {
			t.Fatalf("the publisher's DUP flag was forwarded")
		}
	})
}
