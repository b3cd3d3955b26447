package broker_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// TestE2EInflightWindow: the broker has at most the client's Receive
// Maximum (MQTT 5) or Config.MaxInflight (3.1.1) QoS 1 deliveries
// unacknowledged [MQTT-3.3.4-7]; each acknowledgement lets the next queued
// one go, in order.
func TestE2EInflightWindow(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		cfg := broker.Config{}
		edit := func(cp *mqtt.Connect) { cp.Props.ReceiveMaximum = 2; cp.Props.Set(mqtt.PropReceiveMaximum) }
		if v != mqtt.V5 {
			cfg.MaxInflight, edit = 2, nil
		}
		srv := start(t, engine, cfg)
		sub, _ := connect(t, srv, v, "sub", true, edit)
		subscribe(t, sub, 1, "win/#")
		pub := client(t, srv, v, "pub")
		for i := range 5 {
			publishRouted(t, pub, "win/t", fmt.Sprintf("m%d", i))
		}

		got := sub.ExpectPublishes(2)
		if p := payloads(got); p[0] != "m0" || p[1] != "m1" {
			t.Fatalf("first window %v, want [m0 m1]", p)
		}
		sub.Sync() // no third one while two are unacknowledged
		sub.Ack(got[0])
		third := sub.ExpectPublish()
		if string(third.Payload) != "m2" {
			t.Fatalf("after one PUBACK got %q, want m2", third.Payload)
		}
		sub.Sync()
		sub.Ack(got[1])
		sub.Ack(third)
		for _, want := range []string{"m3", "m4"} {
			expectMessage(t, sub, "win/t", want, 1)
		}
		sub.Sync()
	})
}

// TestE2EReceiveMaximumInbound: the broker tells its Receive Maximum in
// CONNACK and closes an MQTT 5 client that has more unreleased QoS 2
// messages in flight with 0x93 [MQTT-3.3.4-9]; resending one it holds is
// no new message.
func TestE2EReceiveMaximumInbound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{ReceiveMaximum: 2})
		c, ack := connect(t, srv, mqtt.V5, "eager", true, nil)
		if !ack.Props.Has(mqtt.PropReceiveMaximum) || ack.Props.ReceiveMaximum != 2 {
			t.Fatalf("CONNACK receive maximum present=%v %d, want 2", ack.Props.Has(mqtt.PropReceiveMaximum), ack.Props.ReceiveMaximum)
		}
		for id := uint16(1); id <= 2; id++ {
			c.Publish("rm/t", "x", 2, false, id, nil)
			c.ExpectAck(mqtt.PUBREC)
		}
		// A resend of a held message is not a new one: PUBREC again [MQTT-4.3.3-10].
		c.Send(mqtt.AppendPublish(nil, mqtt.V5, &mqtt.Publish{Topic: []byte("rm/t"), Payload: []byte("x"), QoS: 2, Dup: true, PacketID: 2}))
		c.ExpectAck(mqtt.PUBREC)
		c.Publish("rm/t", "x", 2, false, 3, nil)
		expectDisconnect(t, c, mqtt.ReceiveMaximumExceeded)
	})
}

// TestE2EMaxPacketSizeOutbound: messages larger than the Maximum Packet
// Size a client gave in CONNECT are not sent to it [MQTT-3.1.2-25] (and
// counted as dropped); smaller ones are, and other clients get everything.
func TestE2EMaxPacketSizeOutbound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{})
		small, _ := connect(t, srv, mqtt.V5, "small", true, func(cp *mqtt.Connect) {
			cp.Props.MaximumPacketSize = 64
			cp.Props.Set(mqtt.PropMaximumPacketSize)
		})
		subscribe(t, small, 1, "mps/#")
		big := client(t, srv, mqtt.V5, "big")
		subscribe(t, big, 1, "mps/#")
		pub := client(t, srv, mqtt.V311, "pub")

		large := strings.Repeat("L", 100)
		msgs := []struct {
			payload string
			qos     mqtt.QoS
		}{{"fits 0", 0}, {large, 0}, {"fits 1", 1}, {large, 1}, {"fits again", 1}}
		for i, m := range msgs {
			pub.PublishFlow("mps/t", m.payload, m.qos, false, uint16(i+1), nil)
		}
		pub.Sync()
		for _, m := range msgs {
			if m.payload != large {
				expectMessage(t, small, "mps/t", m.payload, m.qos)
			}
			expectMessage(t, big, "mps/t", m.payload, m.qos)
		}
		small.Sync()
		if st := srv.Broker.Stats(); st.DroppedTooLarge != 2 {
			t.Fatalf("DroppedTooLarge %d, want 2", st.DroppedTooLarge)
		}
	})
}

// TestE2ESharedSubscriptions: each message to a shared subscription
// ($share/group/filter) goes to one member, none is lost or duplicated, the
// members take turns, ordinary subscribers still get everything, and
// retained messages are not sent for a shared SUBSCRIBE. When a member
// leaves, the others get its share. Members of both versions, and members
// that accept topic aliases, are served alike.
func TestE2ESharedSubscriptions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		for _, tc := range []struct {
			name     string
			versions [2]mqtt.Version
			aliases  uint16 // the MQTT 5 members' Topic Alias Maximum
		}{
			{"MQTT 5 and 3.1.1 members", [2]mqtt.Version{mqtt.V5, mqtt.V311}, 0},
			{"members accepting topic aliases", [2]mqtt.Version{mqtt.V5, mqtt.V5}, 4},
		} {
			t.Run(tc.name, func(t *testing.T) {
				testShared(t, engine, tc.versions, tc.aliases)
			})
		}
	})
}

func testShared(t *testing.T, engine string, versions [2]mqtt.Version, aliases uint16) {
	srv := start(t, engine, broker.Config{})
	pub := client(t, srv, mqtt.V5, "pub")
	pub.PublishFlow("sh/r", "retained", 1, true, 1, nil)
	var members [2]*brokertest.RawClient
	for i, v := range versions {
		members[i], _ = connect(t, srv, v, fmt.Sprintf("member%d", i), true, func(cp *mqtt.Connect) {
			if v == mqtt.V5 && aliases > 0 {
				cp.Props.TopicAliasMaximum = aliases
				cp.Props.Set(mqtt.PropTopicAliasMaximum)
			}
		})
		subscribe(t, members[i], 1, "$share/g/sh/#")
		members[i].Sync() // no retained message for a shared subscription
	}
	plain := client(t, srv, mqtt.V5, "plain")
	subscribe(t, plain, 1, "sh/#")
	expectRetained(t, plain, 1)

	const n = 20
	for i := range n {
		publishRouted(t, pub, "sh/t", fmt.Sprintf("n%02d", i))
	}
	for i := range n {
		expectMessage(t, plain, "sh/t", fmt.Sprintf("n%02d", i), 1)
	}
	got0, got1 := members[0].Drain(), members[1].Drain()
	t.Logf("shared: %d to member0 (MQTT %s), %d to member1 (MQTT %s)", len(got0), versions[0], len(got1), versions[1])
	checkShared(t, n, got0, got1)
	if len(got0) == 0 || len(got1) == 0 {
		t.Errorf("shared subscription: one member got everything (%d, %d)", len(got0), len(got1))
	}

	addr := members[1].LocalAddr()
	members[1].Disconnect(nil)
	srv.WaitLog("Client member1 ("+addr+") disconnected", logWait)
	for i := range 10 {
		publishRouted(t, pub, "sh/t", fmt.Sprintf("after%d", i))
	}
	checkShared(t, 10, members[0].Drain())
}

// checkShared fails unless the members' deliveries are n distinct messages.
func checkShared(t *testing.T, n int, members ...[]*mqtt.Publish) {
	t.Helper()
	seen := map[string]bool{}
	for _, got := range members {
		for _, p := range got {
			if seen[string(p.Payload)] {
				t.Fatalf("shared subscription delivered %q twice", p.Payload)
			}
			seen[string(p.Payload)] = true
		}
	}
	if len(seen) != n {
		t.Fatalf("shared subscription delivered %d distinct messages, want %d", len(seen), n)
	}
}

// TestE2ESharedSubscriptionOfflineMember: while one member of a shared
// subscription is away (its session kept), messages go to the members that
// are online rather than into the absent member's queue, where they would
// wait, or be lost if it never returns (MQTT 5 section 4.8.2). Online
// members that accept topic aliases count as online too.
func TestE2ESharedSubscriptionOfflineMember(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		for _, tc := range []struct {
			aliases   uint16
			awayFirst bool // the absent member joined the group first
		}{{0, true}, {0, false}, {8, true}, {8, false}} {
			t.Run(fmt.Sprintf("topic alias maximum %d, away member first %v", tc.aliases, tc.awayFirst), func(t *testing.T) {
				srv := start(t, engine, broker.Config{Grace: 30 * time.Second})
				away, _ := persistent(t, srv, mqtt.V5, "away", nil)
				online, _ := connect(t, srv, mqtt.V5, "online", true, func(cp *mqtt.Connect) {
					if tc.aliases > 0 {
						cp.Props.TopicAliasMaximum = tc.aliases
						cp.Props.Set(mqtt.PropTopicAliasMaximum)
					}
				})
				members := []*brokertest.RawClient{online, away}
				if tc.awayFirst {
					members[0], members[1] = away, online
				}
				for _, m := range members {
					subscribe(t, m, 1, "$share/g/off/#")
				}
				lose(t, srv, away, "away")

				pub := client(t, srv, mqtt.V5, "pub")
				const n = 10
				for i := range n {
					publishRouted(t, pub, "off/t", fmt.Sprintf("m%d", i))
				}
				if got := online.Drain(); len(got) != n {
					t.Errorf("online member got %d of %d messages while the other member was away", len(got), n)
				}
			})
		}
	})
}

// TestE2EAssignedClientID: an MQTT 5 client with an empty client identifier
// gets one assigned in CONNACK [MQTT-3.2.2-16], unique, under which its
// session can be resumed. MQTT 3.1.1 accepts an empty identifier only with
// clean session 1 and refuses it otherwise with 0x02 [MQTT-3.1.3-8].
func TestE2EAssignedClientID(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{Grace: 30 * time.Second})
		if v != mqtt.V5 {
			client(t, srv, v, "").Sync()
			c := brokertest.Dial(t, srv.Addr, v)
			if ack := c.Connect("", false, nil); ack.Reason != mqtt.V311IdentifierRejected {
				t.Fatalf("empty client id with clean session 0: CONNACK %#x, want 0x02", byte(ack.Reason))
			}
			expectClosedSilently(t, c)
			return
		}
		first, ack := connect(t, srv, v, "", false, withSessionExpiry(3600))
		id := string(ack.Props.AssignedClientID)
		_, ack2 := connect(t, srv, v, "", true, nil)
		if id == "" || string(ack2.Props.AssignedClientID) == "" || id == string(ack2.Props.AssignedClientID) {
			t.Fatalf("assigned client ids %q and %q, want two distinct ones", id, ack2.Props.AssignedClientID)
		}
		subscribe(t, first, 1, "assigned/#")
		lose(t, srv, first, id)
		again, present := persistent(t, srv, v, id, nil)
		if !present {
			t.Fatalf("reconnecting with the assigned id %q: session present 0", id)
		}
		pub := client(t, srv, v, "pub")
		publishRouted(t, pub, "assigned/t", "found you")
		expectMessage(t, again, "assigned/t", "found you", 1)
	})
}

// TestE2EUnsubscribe: UNSUBACK has a reason per filter in MQTT 5, Success
// or 0x11 when no such subscription existed [MQTT-3.11.3-1], none in 3.1.1;
// deliveries stop [MQTT-3.10.4-2].
func TestE2EUnsubscribe(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{})
		sub := client(t, srv, v, "sub")
		subscribe(t, sub, 1, "un/a")
		subscribe(t, sub, 1, "un/b")
		ack := sub.Unsubscribe("un/a", "un/never")
		if v == mqtt.V5 {
			if len(ack.Reasons) != 2 || ack.Reasons[0] != mqtt.Success || ack.Reasons[1] != mqtt.NoSubscriptionExisted {
				t.Fatalf("UNSUBACK reasons %v, want [0x00 0x11]", ack.Reasons)
			}
		} else if len(ack.Reasons) != 0 {
			t.Fatalf("3.1.1 UNSUBACK with reasons %v", ack.Reasons)
		}
		srv.WaitLog("Client sub unsubscribed from un/a", logWait)
		pub := client(t, srv, v, "pub")
		want := byVersion(v, mqtt.NoMatchingSubscribers, mqtt.Success)
		if got := publishRouted(t, pub, "un/a", "gone"); got != want {
			t.Fatalf("PUBACK after unsubscribing: %s, want %s", got, want)
		}
		publishRouted(t, pub, "un/b", "still here")
		expectMessage(t, sub, "un/b", "still here", 1) // and not "gone" before it
	})
}

// TestE2EPayloadFormatInvalid: an MQTT 5 PUBLISH that says its payload is
// UTF-8 (payload format 1) but is not gets PUBACK 0x99 and is not routed.
func TestE2EPayloadFormatInvalid(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		_, sub, pub := startPair(t, engine, mqtt.V5, broker.Config{}, 1, "pf/#")
		got := pub.PublishFlow("pf/t", "\xff\xfe", 1, false, 1, func(p *mqtt.Publish) {
			p.Props.PayloadFormat = 1
			p.Props.Set(mqtt.PropPayloadFormat)
		})
		if got != mqtt.PayloadFormatInvalid {
			t.Fatalf("PUBACK %s, want payload format invalid", got)
		}
		sub.Sync()
	})
}
