package broker_test

import (
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// withWill returns a CONNECT edit that sets a will message on topic (QoS 1)
// with payload, the retain flag and, in MQTT 5, a Will Delay Interval in
// seconds and a content type and user property to be forwarded.
func withWill(topic, payload string, retain bool, delay uint32) func(*mqtt.Connect) {
	return func(cp *mqtt.Connect) {
		cp.WillFlag, cp.WillQoS, cp.WillRetain = true, 1, retain
		cp.WillTopic, cp.WillPayload = []byte(topic), []byte(payload)
		if cp.Version == mqtt.V5 {
			cp.WillProps.ContentType = []byte("text/plain")
			cp.WillProps.UserProperties = []mqtt.UserProperty{{Key: []byte("cause"), Value: []byte("will")}}
			if delay > 0 {
				cp.WillProps.WillDelay = delay
				cp.WillProps.Set(mqtt.PropWillDelay)
			}
		}
	}
}

// both composes CONNECT edits.
func both(edits ...func(*mqtt.Connect)) func(*mqtt.Connect) {
	return func(cp *mqtt.Connect) {
		for _, e := range edits {
			e(cp)
		}
	}
}

// expectWill reads the next PUBLISH and checks it is the will sent by
// withWill(topic, payload, ...), with its MQTT 5 properties forwarded.
func expectWill(t *testing.T, c *brokertest.RawClient, topic, payload string) *mqtt.Publish {
	t.Helper()
	p := expectMessage(t, c, topic, payload, 1)
	if c.Version == mqtt.V5 {
		ups := p.Props.UserProperties
		if string(p.Props.ContentType) != "text/plain" || len(ups) != 1 || string(ups[0].Key) != "cause" || string(ups[0].Value) != "will" {
			t.Fatalf("will properties not forwarded: content type %q, user properties %d", p.Props.ContentType, len(ups))
		}
	}
	return p
}

// startWatched starts a broker with cfg and a client "watcher" of version v
// subscribed to will/# at QoS 1.
func startWatched(t *testing.T, engine string, v mqtt.Version, cfg broker.Config) (*brokertest.Server, *brokertest.RawClient) {
	t.Helper()
	srv := start(t, engine, cfg)
	watcher := client(t, srv, v, "watcher")
	subscribe(t, watcher, 1, "will/#")
	return srv, watcher
}

// TestE2EWillOnAbruptClose: a connection closed without DISCONNECT has its
// will published [MQTT-3.1.2-8], as a live message (RETAIN=0 to established
// subscriptions); a retained will is also stored, for later subscribers.
func TestE2EWillOnAbruptClose(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv, watcher := startWatched(t, engine, v, broker.Config{})
		c, _ := connect(t, srv, v, "mortal", true, withWill("will/mortal", "mortal is gone", true, 0))
		c.Close()
		if p := expectWill(t, watcher, "will/mortal", "mortal is gone"); p.Retain {
			t.Errorf("will delivered to an established subscription with RETAIN=1")
		}
		srv.WaitLog("Will of mortal published to will/mortal", logWait)

		late := client(t, srv, v, "late")
		subscribe(t, late, 1, "will/#")
		if p := expectWill(t, late, "will/mortal", "mortal is gone"); !p.Retain {
			t.Errorf("retained will sent to a new subscription with RETAIN=0")
		}
	})
}

// TestE2EWillNotOnDisconnect: a normal DISCONNECT discards the will
// [MQTT-3.1.2-10]. A second client's will, published after the first one
// disconnected, is the next message the watcher gets.
func TestE2EWillNotOnDisconnect(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv, watcher := startWatched(t, engine, v, broker.Config{})

		polite, _ := connect(t, srv, v, "polite", true, withWill("will/polite", "polite is gone", false, 0))
		addr := polite.LocalAddr()
		polite.Disconnect(nil)
		srv.WaitLog("Client polite ("+addr+") disconnected", logWait)

		rude, _ := connect(t, srv, v, "rude", true, withWill("will/rude", "rude is gone", false, 0))
		rude.Close()
		expectWill(t, watcher, "will/rude", "rude is gone")
		watcher.ExpectNothing(quietWait)
		if n := srv.CountLog("Will of polite"); n != 0 {
			t.Fatalf("will published after a normal DISCONNECT; log:\n%s", srv.Logs())
		}
	})
}

// TestE2EWillOnDisconnectWithWill: MQTT 5 DISCONNECT with reason 0x04 keeps
// the will, which is published.
func TestE2EWillOnDisconnectWithWill(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv, watcher := startWatched(t, engine, mqtt.V5, broker.Config{})
		c, _ := connect(t, srv, mqtt.V5, "leaver", true, withWill("will/leaver", "left with will", false, 0))
		c.Disconnect(func(d *mqtt.Disconnect) { d.Reason = mqtt.DisconnectWithWill })
		expectWill(t, watcher, "will/leaver", "left with will")
	})
}

// TestE2EWillOnProtocolError: a connection the server closes because of bad
// input has its will published [MQTT-3.1.2-8].
func TestE2EWillOnProtocolError(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv, watcher := startWatched(t, engine, v, broker.Config{})
		c, _ := connect(t, srv, v, "clumsy", true, withWill("will/clumsy", "clumsy broke it", false, 0))
		c.Publish("bad/+/topic", "x", 0, false, 0, nil)
		expectDisconnect(t, c, mqtt.TopicNameInvalid)
		expectWill(t, watcher, "will/clumsy", "clumsy broke it")
	})
}

// TestE2EWillDelay checks the MQTT 5 Will Delay Interval [MQTT-3.1.3-9]: the
// will waits for the delay; a reconnection within the delay cancels it; a
// delay longer than the session publishes it when the session ends.
func TestE2EWillDelay(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		t.Run("reconnected", func(t *testing.T) {
			t.Parallel()
			srv, watcher := startWatched(t, engine, mqtt.V5, broker.Config{Grace: 30 * time.Second})
			c, _ := persistent(t, srv, mqtt.V5, "phoenix", withWill("will/phoenix", "phoenix is gone", false, 2))
			c.Close()
			srv.WaitLog("Client phoenix ("+c.LocalAddr()+") lost", logWait)
			if _, present := persistent(t, srv, mqtt.V5, "phoenix", nil); !present {
				t.Fatalf("reconnection within the session expiry: session present 0")
			}
			watcher.ExpectNothing(2*time.Second + 500*time.Millisecond) // the delay, and some
			if n := srv.CountLog("Will of phoenix"); n != 0 {
				t.Fatalf("will published although the client came back within the delay; log:\n%s", srv.Logs())
			}
		})
		t.Run("delay passed", func(t *testing.T) {
			t.Parallel()
			srv, watcher := startWatched(t, engine, mqtt.V5, broker.Config{Grace: 30 * time.Second})
			c, _ := persistent(t, srv, mqtt.V5, "late", withWill("will/late", "late is gone", false, 1))
			closed := time.Now()
			c.Close()
			expectWill(t, watcher, "will/late", "late is gone")
			if waited := time.Since(closed); waited < 900*time.Millisecond {
				t.Fatalf("will with a 1 s delay published after %v", waited)
			}
			// The will delay does not end the session.
			if _, present := persistent(t, srv, mqtt.V5, "late", nil); !present {
				t.Fatalf("session ended with the will delay")
			}
		})
		t.Run("session ends first", func(t *testing.T) {
			t.Parallel()
			srv, watcher := startWatched(t, engine, mqtt.V5, broker.Config{Grace: 30 * time.Second})
			c, _ := connect(t, srv, mqtt.V5, "short", false, both(withSessionExpiry(1), withWill("will/short", "short is gone", false, 600)))
			c.Close()
			expectWill(t, watcher, "will/short", "short is gone")
			srv.WaitLog("Session of short expired", logWait)
		})
	})
}
