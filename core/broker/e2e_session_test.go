package broker_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// seedMessages is how many messages the seed scenario publishes while its
// subscriber is away.
const seedMessages = 12

// publishWhileAway publishes n messages "m00", "m01", ... to topic from
// pub, alternating QoS 0 and QoS 1 (even ones at QoS 0), and returns once
// the broker has routed them all.
func publishWhileAway(t *testing.T, pub *brokertest.RawClient, topic string, n int) {
	t.Helper()
	for i := range n {
		payload := fmt.Sprintf("m%02d", i)
		if i%2 == 0 {
			pub.Publish(topic, payload, 0, false, 0, nil)
			continue
		}
		if reason := pub.PublishFlow(topic, payload, 1, false, uint16(i), nil); reason != mqtt.Success {
			t.Fatalf("publishing %s while the subscriber is away: reason %s", payload, reason)
		}
	}
	pub.Sync() // the trailing QoS 0 messages are routed too
}

// lose closes c without DISCONNECT and waits until the broker has noticed
// and kept the session of clientID.
func lose(t *testing.T, srv *brokertest.Server, c *brokertest.RawClient, clientID string) {
	t.Helper()
	c.Close()
	srv.WaitLog("Client "+clientID+" ("+c.LocalAddr()+") lost", logWait)
	srv.WaitLog("Session of "+clientID+" kept", logWait)
}

// TestE2ESeedSessionResumed is the seed's central scenario: a subscriber
// with a persistent session (MQTT 5 clean start 0 and a session expiry;
// 3.1.1 clean session 0) is killed without DISCONNECT; the messages
// published while it is away, QoS 0 included, are delivered in order to the
// next connection with its name within the grace period, which gets
// session present 1 [MQTT-3.2.2-2].
func TestE2ESeedSessionResumed(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		for subQoS := mqtt.QoS(0); subQoS <= 1; subQoS++ {
			t.Run(fmt.Sprintf("subscribed at QoS %d", subQoS), func(t *testing.T) {
				srv := start(t, engine, broker.Config{Grace: 30 * time.Second})
				pub := client(t, srv, v, "pub")
				sub, present := persistent(t, srv, v, "seed", nil)
				if present {
					t.Fatalf("first connection: session present 1")
				}
				subscribe(t, sub, subQoS, "seed/#")
				lose(t, srv, sub, "seed")

				publishWhileAway(t, pub, "seed/news", seedMessages)

				sub, present = persistent(t, srv, v, "seed", nil)
				if !present {
					t.Fatalf("reconnection within the grace period: session present 0")
				}
				for i := range seedMessages {
					expectMessage(t, sub, "seed/news", fmt.Sprintf("m%02d", i), min(mqtt.QoS(i%2), subQoS))
				}
				sub.Sync() // exactly seedMessages, no duplicates
				srv.WaitLog(fmt.Sprintf("Client seed resumed its session with %d queued messages", seedMessages), logWait)

				// The subscription lives on: live messages still arrive.
				publishRouted(t, pub, "seed/news", "live again")
				expectMessage(t, sub, "seed/news", "live again", subQoS)
			})
		}
	})
}

// TestE2ESeedSessionExpired is the other half of the seed scenario: after
// the grace period the session is gone with what was queued for it (counted
// as dropped); the next connection with the name gets session present 0,
// no messages, and no subscriptions.
func TestE2ESeedSessionExpired(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{Grace: time.Second})
		pub := client(t, srv, v, "pub")
		sub, _ := persistent(t, srv, v, "seed", nil)
		subscribe(t, sub, 1, "seed/#")
		lost := time.Now()
		lose(t, srv, sub, "seed")
		srv.WaitLog("Session of seed kept for 1s", logWait)

		publishWhileAway(t, pub, "seed/news", seedMessages)
		srv.WaitLog(fmt.Sprintf("Session of seed expired (%d queued messages dropped)", seedMessages), logWait)
		if took := time.Since(lost); took < 900*time.Millisecond {
			t.Fatalf("session with a 1 s grace period expired after %v", took)
		}
		if st := srv.Broker.Stats(); st.DroppedSessionExpired != seedMessages || st.Sessions != 1 {
			t.Fatalf("after expiry: %d dropped with the session (want %d), %d sessions (want 1, the publisher's)",
				st.DroppedSessionExpired, seedMessages, st.Sessions)
		}

		sub, present := persistent(t, srv, v, "seed", nil)
		if present {
			t.Fatalf("reconnection after the grace period: session present 1")
		}
		sub.Sync() // no messages
		want := byVersion(v, mqtt.NoMatchingSubscribers, mqtt.Success)
		if got := publishRouted(t, pub, "seed/news", "anyone?"); got != want {
			t.Fatalf("publish after the session expired: reason %s, want %s", got, want)
		}
		sub.Sync() // no subscription either
	})
}

// TestE2ESessionExpiryInterval checks the MQTT 5 Session Expiry Interval:
// one above the grace period is capped and told back in CONNACK
// [MQTT-3.2.2-?]; one below it is honoured, not told back.
func TestE2ESessionExpiryInterval(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{Grace: 30 * time.Second})
		_, ack := connect(t, srv, mqtt.V5, "greedy", false, withSessionExpiry(3600))
		if !ack.Props.Has(mqtt.PropSessionExpiry) || ack.Props.SessionExpiry != 30 {
			t.Fatalf("session expiry 3600 over a 30 s grace: CONNACK session expiry present=%v value %d, want 30",
				ack.Props.Has(mqtt.PropSessionExpiry), ack.Props.SessionExpiry)
		}
		short, ack := connect(t, srv, mqtt.V5, "short", false, withSessionExpiry(1))
		if ack.Props.Has(mqtt.PropSessionExpiry) {
			t.Fatalf("session expiry 1 within the grace: CONNACK tells session expiry %d", ack.Props.SessionExpiry)
		}
		subscribe(t, short, 1, "short/#")
		lose(t, srv, short, "short")
		srv.WaitLog("Session of short expired", logWait)
		if _, ack = connect(t, srv, mqtt.V5, "short", false, withSessionExpiry(1)); ack.SessionPresent {
			t.Fatalf("session with expiry 1 s still present after it expired")
		}
	})
}

// TestE2EGracefulDisconnect checks how a DISCONNECT ends a session. MQTT 5:
// DISCONNECT with Session Expiry Interval 0 ends it at once; DISCONNECT
// without the property keeps the CONNECT's expiry; a CONNECT with expiry 0
// keeps nothing; setting a non-zero expiry at DISCONNECT after 0 at CONNECT
// is a protocol error [MQTT-3.14.2-2]. MQTT 3.1.1: DISCONNECT with clean
// session 0 keeps the session [MQTT-3.1.2-4]; clean session 1 does not.
func TestE2EGracefulDisconnect(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{Grace: 30 * time.Second})
		pub := client(t, srv, v, "pub")
		// resumes says whether a session of clientID is present, and closes
		// the connection that asked, keeping the session.
		resumes := func(clientID string) bool {
			t.Helper()
			c, present := persistent(t, srv, v, clientID, nil)
			c.Close()
			srv.WaitLog("Client "+clientID+" ("+c.LocalAddr()+") lost", logWait)
			return present
		}

		if v == mqtt.V5 {
			c, _ := persistent(t, srv, v, "ender", nil)
			subscribe(t, c, 1, "ender/t")
			addr := c.LocalAddr()
			c.Disconnect(func(d *mqtt.Disconnect) { d.Props.SessionExpiry = 0; d.Props.Set(mqtt.PropSessionExpiry) })
			srv.WaitLog("Client ender ("+addr+") disconnected", logWait)
			if got := publishRouted(t, pub, "ender/t", "x"); got != mqtt.NoMatchingSubscribers {
				t.Fatalf("DISCONNECT with session expiry 0: subscription kept (PUBACK %s)", got)
			}
			if resumes("ender") {
				t.Fatalf("DISCONNECT with session expiry 0: session present at the next CONNECT")
			}

			c, _ = connect(t, srv, v, "fleeting", false, nil) // session expiry absent: 0
			c.Close()
			srv.WaitLog("Client fleeting ("+c.LocalAddr()+") lost", logWait)
			if resumes("fleeting") {
				t.Fatalf("CONNECT with session expiry 0: session present after the connection closed")
			}

			c, _ = connect(t, srv, v, "changer", false, nil)
			d := &mqtt.Disconnect{}
			d.Props.SessionExpiry = 60
			d.Props.Set(mqtt.PropSessionExpiry)
			c.Send(mqtt.AppendDisconnect(nil, v, d))
			expectDisconnect(t, c, mqtt.ProtocolError)
			srv.WaitLog("WARN: Client changer ("+c.LocalAddr()+") closed: protocol error (0x82)", logWait)
		}

		// DISCONNECT without a session expiry (MQTT 5: the CONNECT's stands)
		// or with clean session 0 (3.1.1) keeps the session and its queue.
		c, _ := persistent(t, srv, v, "keeper", nil)
		subscribe(t, c, 1, "keeper/t")
		addr := c.LocalAddr()
		c.Disconnect(nil)
		srv.WaitLog("Client keeper ("+addr+") disconnected", logWait)
		srv.WaitLog("Session of keeper kept", logWait)
		publishRouted(t, pub, "keeper/t", "kept for you")
		c, present := persistent(t, srv, v, "keeper", nil)
		if !present {
			t.Fatalf("DISCONNECT of a persistent session: session present 0 at the next CONNECT")
		}
		expectMessage(t, c, "keeper/t", "kept for you", 1)

		// Clean start 1 keeps nothing after DISCONNECT.
		c = client(t, srv, v, "cleaner")
		subscribe(t, c, 1, "cleaner/t")
		addr = c.LocalAddr()
		c.Disconnect(nil)
		srv.WaitLog("Client cleaner ("+addr+") disconnected", logWait)
		if resumes("cleaner") {
			t.Fatalf("clean session 1: session present after DISCONNECT")
		}
	})
}

// TestE2EDisconnectChangesExpiry: an MQTT 5 DISCONNECT may set a new, non-zero
// Session Expiry Interval [MQTT-3.14.2-2]; the session then lasts that long.
func TestE2EDisconnectChangesExpiry(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{Grace: 30 * time.Second})
		c, _ := persistent(t, srv, mqtt.V5, "shortened", nil)
		addr := c.LocalAddr()
		left := time.Now()
		c.Disconnect(func(d *mqtt.Disconnect) { d.Props.SessionExpiry = 1; d.Props.Set(mqtt.PropSessionExpiry) })
		srv.WaitLog("Client shortened ("+addr+") disconnected", logWait)
		srv.WaitLog("Session of shortened kept for 1s", logWait)
		srv.WaitLog("Session of shortened expired", logWait)
		if took := time.Since(left); took < 900*time.Millisecond {
			t.Fatalf("session with expiry 1 s set at DISCONNECT ended after %v", took)
		}
	})
}
