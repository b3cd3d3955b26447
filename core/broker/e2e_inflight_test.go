package broker_test

import (
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// TestE2EInflightResend: outbound QoS 1 and 2 messages the subscriber had
// not fully acknowledged when its connection dropped are sent again on the
// resumed session with their original packet identifiers
// [MQTT-4.4.0-1]: an unacknowledged PUBLISH with DUP=1 [MQTT-3.3.1-1], in
// the original order [MQTT-4.6.0-1]; a PUBLISH already PUBREC'd as PUBREL.
// Messages queued while away follow. Once acknowledged, nothing is resent.
func TestE2EInflightResend(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{Grace: 30 * time.Second})
		pub := client(t, srv, v, "pub")
		sub, _ := persistent(t, srv, v, "forgetful", nil)
		subscribe(t, sub, 2, "rs/#")

		pub.PublishFlow("rs/t", "q1 unacked", 1, false, 1, nil)
		q1 := sub.ExpectPublish()
		pub.PublishFlow("rs/t", "q2 received", 2, false, 2, nil)
		q2 := sub.ExpectPublish()
		sub.SendAck(mqtt.PUBREC, q2.PacketID)
		if rel := sub.ExpectAck(mqtt.PUBREL); rel.PacketID != q2.PacketID {
			t.Fatalf("PUBREL for %d, want %d", rel.PacketID, q2.PacketID)
		}
		pub.PublishFlow("rs/t", "q2 unreceived", 2, false, 3, nil)
		q2b := sub.ExpectPublish()
		for _, p := range []*mqtt.Publish{q1, q2, q2b} {
			if p.Dup {
				t.Fatalf("first delivery of %q has DUP=1", p.Payload)
			}
		}
		lose(t, srv, sub, "forgetful")
		pub.PublishFlow("rs/t", "queued", 1, false, 4, nil)

		sub, present := persistent(t, srv, v, "forgetful", nil)
		if !present {
			t.Fatalf("session present 0 on reconnection")
		}
		// The PUBREL and the PUBLISH packets may interleave in any order.
		var pubs []*mqtt.Publish
		sawPubrel := false
		for len(pubs) < 3 || !sawPubrel {
			p := sub.Next(brokertest.DefaultWait)
			switch p.Type {
			case mqtt.PUBREL:
				a := &mqtt.Ack{}
				if err := mqtt.DecodeAck(v, mqtt.PUBREL, p.Flags, p.Body, a); err != nil || a.PacketID != q2.PacketID || sawPubrel {
					t.Fatalf("resent PUBREL %d (%v), want one for %d", a.PacketID, err, q2.PacketID)
				}
				sawPubrel = true
			case mqtt.PUBLISH:
				pp := &mqtt.Publish{}
				if err := mqtt.DecodePublish(v, p.Flags, p.Body, pp); err != nil {
					t.Fatal(err)
				}
				pubs = append(pubs, pp)
			default:
				t.Fatalf("got %s after resuming, want PUBLISH or PUBREL", p.Type)
			}
		}
		for i, want := range []*mqtt.Publish{q1, q2b} {
			got := pubs[i]
			if string(got.Payload) != string(want.Payload) || got.PacketID != want.PacketID || !got.Dup || got.QoS != want.QoS {
				t.Fatalf("resend %d: got %q id %d DUP=%v QoS %d, want %q id %d DUP=1 QoS %d",
					i, got.Payload, got.PacketID, got.Dup, got.QoS, want.Payload, want.PacketID, want.QoS)
			}
		}
		if queued := pubs[2]; string(queued.Payload) != "queued" || queued.Dup {
			t.Fatalf("after the resends: got %q DUP=%v, want the queued message with DUP=0", queued.Payload, queued.Dup)
		}

		sub.SendAck(mqtt.PUBCOMP, q2.PacketID)
		for _, p := range pubs {
			sub.Ack(p)
		}
		sub.Sync()

		// Everything is acknowledged: nothing is resent next time.
		lose(t, srv, sub, "forgetful")
		sub, _ = persistent(t, srv, v, "forgetful", nil)
		sub.Sync()
		srv.WaitLog("Client forgetful resumed its session with 0 queued messages", logWait)
	})
}

// TestE2EInboundQoS2AcrossReconnect: the broker remembers an inbound QoS 2
// message it acknowledged with PUBREC across a reconnection, so the
// publisher's resend (DUP=1, same identifier) is not routed again
// [MQTT-4.3.3-10], and its PUBREL completes the flow.
func TestE2EInboundQoS2AcrossReconnect(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{Grace: 30 * time.Second})
		sub := client(t, srv, v, "sub")
		subscribe(t, sub, 2, "once/#")
		pub, _ := persistent(t, srv, v, "resender", nil)

		pub.Publish("once/t", "exactly once", 2, false, 5, nil)
		pub.ExpectAck(mqtt.PUBREC)
		expectMessage(t, sub, "once/t", "exactly once", 2)
		lose(t, srv, pub, "resender")

		pub, present := persistent(t, srv, v, "resender", nil)
		if !present {
			t.Fatalf("publisher's session present 0 on reconnection")
		}
		pub.Publish("once/t", "exactly once", 2, false, 5, func(p *mqtt.Publish) { p.Dup = true })
		if rec := pub.ExpectAck(mqtt.PUBREC); rec.PacketID != 5 {
			t.Fatalf("PUBREC for %d, want 5", rec.PacketID)
		}
		pub.SendAck(mqtt.PUBREL, 5)
		if comp := pub.ExpectAck(mqtt.PUBCOMP); comp.PacketID != 5 || comp.Reason != mqtt.Success {
			t.Fatalf("PUBCOMP %d reason %s, want 5 success", comp.PacketID, comp.Reason)
		}
		sub.Sync() // the resent PUBLISH was not routed again
	})
}

// TestE2EInflightResendOnTakeover: when a second connection takes over a
// session (clean start 0) whose first connection holds an unacknowledged
// QoS 1 delivery, the new connection gets it again with DUP=1 and the same
// packet identifier [MQTT-4.4.0-1].
func TestE2EInflightResendOnTakeover(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{Grace: 30 * time.Second})
		first, _ := persistent(t, srv, v, "twin", nil)
		subscribe(t, first, 1, "tk/#")
		pub := client(t, srv, v, "pub")
		publishRouted(t, pub, "tk/t", "unacked")
		orig := first.ExpectPublish()

		second, present := persistent(t, srv, v, "twin", nil)
		if !present {
			t.Fatalf("takeover with clean start 0: session present 0")
		}
		expectDisconnect(t, first, mqtt.SessionTakenOver)
		again := expectMessage(t, second, "tk/t", "unacked", 1)
		if !again.Dup || again.PacketID != orig.PacketID {
			t.Fatalf("resent after takeover with DUP=%v id %d, want DUP=1 id %d", again.Dup, again.PacketID, orig.PacketID)
		}
		second.Sync()
	})
}
