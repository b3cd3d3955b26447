package broker_test

import (
	"sort"
	"testing"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// expectRetained reads n PUBLISH packets, acknowledges them, checks they all
// carry RETAIN=1 [MQTT-3.3.1-8] and returns them sorted by topic (the order
// of retained messages across topics is not specified).
func expectRetained(t *testing.T, c *brokertest.RawClient, n int) []*mqtt.Publish {
	t.Helper()
	ps := c.ExpectPublishes(n)
	for _, p := range ps {
		if !p.Retain {
			t.Fatalf("retained message %s %q delivered to a new subscription with RETAIN=0", p.Topic, p.Payload)
		}
		c.Ack(p)
	}
	sort.Slice(ps, func(i, j int) bool { return string(ps[i].Topic) < string(ps[j].Topic) })
	return ps
}

// expectLive reads the next PUBLISH and checks it is a live delivery:
// topic, payload and RETAIN=0 [MQTT-3.3.1-9] (no retain-as-published).
func expectLive(t *testing.T, c *brokertest.RawClient, topic, payload string) {
	t.Helper()
	p := c.ExpectPublish()
	if string(p.Topic) != topic || string(p.Payload) != payload || p.Retain {
		t.Fatalf("got %s %q RETAIN=%v, want live %s %q with RETAIN=0", p.Topic, p.Payload, p.Retain, topic, payload)
	}
	c.Ack(p)
}

// TestE2ERetained checks the life of retained messages: stored, sent with
// RETAIN=1 (at the smaller QoS) to new subscriptions, sent with RETAIN=0 to
// established ones, replaced by a newer retained message, untouched by a
// non-retained one, and deleted by an empty retained payload
// [MQTT-3.3.1-5..3.3.1-11].
func TestE2ERetained(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{})
		live := client(t, srv, v, "live")
		subscribe(t, live, 2, "r/#")
		pub := client(t, srv, v, "pub")

		pub.PublishFlow("r/a", "a1", 2, true, 1, nil)
		pub.PublishFlow("r/b", "b1", 0, true, 0, nil)
		pub.Sync()
		expectLive(t, live, "r/a", "a1")
		expectLive(t, live, "r/b", "b1")
		srv.WaitStats("2 retained messages", logWait, func(s broker.Stats) bool { return s.Retained == 2 })

		late := client(t, srv, v, "late")
		subscribe(t, late, 1, "r/#")
		got := expectRetained(t, late, 2)
		if string(got[0].Payload) != "a1" || got[0].QoS != 1 || string(got[1].Payload) != "b1" || got[1].QoS != 0 {
			t.Fatalf("retained: got %v at QoS %d, %d; want [a1 b1] at QoS 1, 0", payloads(got), got[0].QoS, got[1].QoS)
		}
		late.Sync()

		// Replaced: established subscriptions get it live, new ones only the newest.
		pub.PublishFlow("r/a", "a2", 1, true, 2, nil)
		expectLive(t, live, "r/a", "a2")
		expectLive(t, late, "r/a", "a2")
		// A non-retained message does not replace the retained one.
		pub.PublishFlow("r/b", "b-live", 1, false, 3, nil)
		expectLive(t, live, "r/b", "b-live")
		expectLive(t, late, "r/b", "b-live")
		late2 := client(t, srv, v, "late2")
		subscribe(t, late2, 1, "r/#")
		got = expectRetained(t, late2, 2)
		if string(got[0].Payload) != "a2" || string(got[1].Payload) != "b1" {
			t.Fatalf("after replacing r/a: retained %v, want [a2 b1]", payloads(got))
		}
		late2.Sync()

		// Deleted: the empty message is delivered live, and nothing is retained.
		pub.PublishFlow("r/a", "", 1, true, 4, nil)
		expectLive(t, live, "r/a", "")
		srv.WaitStats("1 retained message", logWait, func(s broker.Stats) bool { return s.Retained == 1 })
		late3 := client(t, srv, v, "late3")
		subscribe(t, late3, 1, "r/+")
		if got = expectRetained(t, late3, 1); string(got[0].Topic) != "r/b" {
			t.Fatalf("after deleting r/a: retained %s, want only r/b", got[0].Topic)
		}
		late3.Sync()
		// The empty retained message itself is not stored either.
		late4 := client(t, srv, v, "late4")
		subscribe(t, late4, 1, "r/a")
		late4.Sync()
	})
}

// TestE2ERetainAsPublished checks the MQTT 5 Retain As Published option:
// with it, a live delivery keeps the publisher's RETAIN flag
// [MQTT-3.3.1-13]; without it, RETAIN is 0 [MQTT-3.3.1-12].
func TestE2ERetainAsPublished(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{})
		rap := client(t, srv, mqtt.V5, "rap")
		subscribeWith(t, rap, 1, "rap/#", func(s *mqtt.Subscribe) { s.Filters[0].RetainAsPublished = true })
		plain := client(t, srv, mqtt.V5, "plain")
		subscribe(t, plain, 1, "rap/#")
		pub := client(t, srv, mqtt.V5, "pub")

		pub.PublishFlow("rap/t", "retained", 1, true, 1, nil)
		if p := rap.ExpectPublish(); !p.Retain || string(p.Payload) != "retained" {
			t.Fatalf("retain as published: got %q RETAIN=%v, want RETAIN=1", p.Payload, p.Retain)
		} else {
			rap.Ack(p)
		}
		expectLive(t, plain, "rap/t", "retained")

		pub.PublishFlow("rap/t", "not retained", 1, false, 2, nil)
		expectLive(t, rap, "rap/t", "not retained")
		expectLive(t, plain, "rap/t", "not retained")
	})
}

// TestE2ERetainHandling checks the MQTT 5 Retain Handling option: 0 sends
// the retained messages at every SUBSCRIBE, 1 only when the subscription is
// new, 2 never [MQTT-3.3.1-9] [MQTT-3.3.1-10] [MQTT-3.3.1-11].
func TestE2ERetainHandling(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{})
		pub := client(t, srv, mqtt.V5, "pub")
		pub.PublishFlow("rh/t", "kept", 1, true, 1, nil)

		for _, tc := range []struct {
			handling    byte
			first, next int // retained messages expected at the first and second SUBSCRIBE
		}{{0, 1, 1}, {1, 1, 0}, {2, 0, 0}} {
			c := client(t, srv, mqtt.V5, "rh"+string(rune('0'+tc.handling)))
			opts := func(s *mqtt.Subscribe) { s.Filters[0].RetainHandling = tc.handling }
			for _, want := range []int{tc.first, tc.next} {
				subscribeWith(t, c, 1, "rh/#", opts)
				if want > 0 {
					if got := expectRetained(t, c, want); string(got[0].Payload) != "kept" {
						t.Fatalf("retain handling %d: got %q", tc.handling, got[0].Payload)
					}
				}
				c.Sync() // no more than want (SUBACK and retained messages precede the PINGRESP)
			}
		}
	})
}
