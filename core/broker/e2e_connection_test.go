package broker_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// keepAliveSlack is what the keep-alive tests allow beyond 1.5 times the
// keep-alive: the broker's 250 ms scan, plus room for a loaded machine.
const keepAliveSlack = 3 * time.Second

// withKeepAlive sets the CONNECT's keep-alive in seconds.
func withKeepAlive(seconds uint16) func(*mqtt.Connect) {
	return func(cp *mqtt.Connect) { cp.KeepAlive = seconds }
}

// expectKeepAliveClose waits for the broker to close c for silence and
// checks when it did: not before 1.5 times keepAlive since since, and not
// much later [MQTT-3.1.2-24]. MQTT 5 clients get DISCONNECT 0x8D.
func expectKeepAliveClose(t *testing.T, c *brokertest.RawClient, keepAlive time.Duration, since time.Time) {
	t.Helper()
	expectDisconnect(t, c, mqtt.KeepAliveTimeout)
	limit := keepAlive * 3 / 2
	switch took := time.Since(since); {
	case took < limit-100*time.Millisecond:
		t.Fatalf("closed after %v of silence, before 1.5 x keep-alive (%v)", took, limit)
	case took > limit+keepAliveSlack:
		t.Fatalf("closed after %v of silence, want about %v", took, limit)
	}
}

// TestE2EKeepAliveExpiry: a client with keep-alive 1 s that sends nothing
// is closed after about 1.5 s (MQTT 5: DISCONNECT 0x8D) and, being lost,
// has its will published.
func TestE2EKeepAliveExpiry(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv, watcher := startWatched(t, engine, v, broker.Config{})
		c, _ := connect(t, srv, v, "sleepy", true, both(withKeepAlive(1), withWill("will/sleepy", "sleepy timed out", false, 0)))
		connected := time.Now()
		expectKeepAliveClose(t, c, time.Second, connected)
		expectWill(t, watcher, "will/sleepy", "sleepy timed out")
		srv.WaitLog("Client sleepy ("+c.LocalAddr()+") lost: keep-alive timeout", logWait)
	})
}

// TestE2EKeepAlivePing: PINGREQ every 400 ms keeps a keep-alive 1 s client
// connected well past 1.5 s, each answered by PINGRESP [MQTT-3.12.4-1].
func TestE2EKeepAlivePing(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{})
		c, _ := connect(t, srv, v, "awake", true, withKeepAlive(1))
		tick := time.NewTicker(400 * time.Millisecond)
		defer tick.Stop()
		for deadline := time.Now().Add(2500 * time.Millisecond); time.Now().Before(deadline); {
			<-tick.C // pacing the client, not synchronisation
			c.Sync()
		}
		if n := srv.CountLog("keep-alive timeout"); n != 0 {
			t.Fatalf("client closed for keep-alive although it pinged; log:\n%s", srv.Logs())
		}
	})
}

// TestE2EServerKeepAlive checks Config.MaxKeepAlive: an MQTT 5 client asking
// more, or 0, is told the maximum as Server Keep Alive and held to it
// [MQTT-3.2.2-21]; one asking less is left alone. An MQTT 3.1.1 client
// asking more, or 0, is refused with return code 0x02.
func TestE2EServerKeepAlive(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{MaxKeepAlive: 1})
		if v != mqtt.V5 {
			for _, ka := range []uint16{60, 0} {
				c := brokertest.Dial(t, srv.Addr, v)
				if ack := c.Connect("greedy", true, withKeepAlive(ka)); ack.Reason != mqtt.V311IdentifierRejected {
					t.Fatalf("3.1.1 keep-alive %d over the maximum 1: CONNACK %#x, want 0x02", ka, byte(ack.Reason))
				}
				expectClosedSilently(t, c)
				srv.WaitLog("Client greedy ("+c.LocalAddr()+") refused: unspecified error (0x80), sent as MQTT 3.1.1 return code 0x02", logWait)
			}
			c, _ := connect(t, srv, v, "modest", true, withKeepAlive(1))
			c.Sync()
			return
		}
		for _, ka := range []uint16{60, 0} {
			c, ack := connect(t, srv, v, "greedy", true, withKeepAlive(ka))
			if !ack.Props.Has(mqtt.PropServerKeepAlive) || ack.Props.ServerKeepAlive != 1 {
				t.Fatalf("keep-alive %d over the maximum 1: CONNACK Server Keep Alive present=%v value %d",
					ka, ack.Props.Has(mqtt.PropServerKeepAlive), ack.Props.ServerKeepAlive)
			}
			expectKeepAliveClose(t, c, time.Second, time.Now())
		}
		_, ack := connect(t, srv, v, "modest", true, withKeepAlive(1))
		if ack.Props.Has(mqtt.PropServerKeepAlive) {
			t.Fatalf("keep-alive within the maximum: CONNACK has Server Keep Alive %d", ack.Props.ServerKeepAlive)
		}
	})
}

// TestE2ETakeover: a second connection with the same client identifier takes
// the session over; the first is told (MQTT 5: DISCONNECT 0x8E) and closed
// [MQTT-3.1.4-3], and its will (no delay) is published. With clean start 0
// the session carries over: subscriptions and session present 1; with clean
// start 1 it is discarded.
func TestE2ETakeover(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv, watcher := startWatched(t, engine, v, broker.Config{})
		pub := client(t, srv, v, "pub")

		first, _ := persistent(t, srv, v, "twin", withWill("will/twin", "first twin replaced", false, 0))
		subscribe(t, first, 1, "tk/t")
		second, present := persistent(t, srv, v, "twin", nil)
		if !present {
			t.Fatalf("takeover with clean start 0: session present 0")
		}
		expectDisconnect(t, first, mqtt.SessionTakenOver)
		expectWill(t, watcher, "will/twin", "first twin replaced")
		srv.WaitLog("Client twin ("+first.LocalAddr()+") taken over", logWait)
		publishRouted(t, pub, "tk/t", "to the second")
		expectMessage(t, second, "tk/t", "to the second", 1)

		third, ack := connect(t, srv, v, "twin", true, nil)
		if ack.SessionPresent {
			t.Fatalf("takeover with clean start 1: session present 1")
		}
		expectDisconnect(t, second, mqtt.SessionTakenOver)
		want := byVersion(v, mqtt.NoMatchingSubscribers, mqtt.Success)
		if got := publishRouted(t, pub, "tk/t", "nobody"); got != want {
			t.Fatalf("publish after a clean takeover: reason %s, want %s (subscription kept?)", got, want)
		}
		third.Sync()
	})
}

// TestE2ETakeoverStorm: many connections CONNECT with one client id at
// once, so takeovers land while CONNECTs are being accepted. Each must see
// CONNACK and then DISCONNECT 0x8E [MQTT-3.1.4-3], in that order, whether it
// was taken over before or after its CONNACK left; the broker counts no
// protocol error, writes no WARN line and names every replaced client.
func TestE2ETakeoverStorm(t *testing.T) {
	const storms, perStorm = 8, 25
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{})
		conns := make([]*brokertest.RawClient, storms*perStorm)
		for i := range conns {
			conns[i] = brokertest.Dial(t, srv.Addr, mqtt.V5)
		}
		connect := mqtt.AppendConnect(nil, &mqtt.Connect{Version: mqtt.V5, CleanStart: true, KeepAlive: 60, ClientID: []byte("storm")})
		var wg sync.WaitGroup
		for g := range storms {
			wg.Go(func() {
				for _, c := range conns[g*perStorm : (g+1)*perStorm] {
					c.Send(connect)
				}
			})
		}
		wg.Wait()
		for deadline := time.Now().Add(brokertest.DefaultWait); srv.CountLog("taken over") < len(conns)-1; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d takeovers logged, want %d", srv.CountLog("taken over"), len(conns)-1)
			}
		}
		referee := client(t, srv, mqtt.V5, "storm") // takes over whichever connection won
		for i, c := range conns {
			if ack := c.ExpectConnack(); ack.Reason != mqtt.Success {
				t.Fatalf("connection %d: CONNACK %s", i, ack.Reason)
			}
			if reason := c.ExpectClosed(); reason != int(mqtt.SessionTakenOver) {
				t.Fatalf("connection %d closed with DISCONNECT reason %d, want 0x8e", i, reason)
			}
		}
		referee.Sync()
		if st := srv.Broker.Stats(); st.ProtocolErrors != 0 {
			t.Errorf("%d protocol errors counted, want 0", st.ProtocolErrors)
		}
		logs := srv.Logs()
		if strings.Contains(logs, "WARN") || strings.Contains(logs, "Client  (") {
			t.Errorf("log has a WARN line or a client without its name:\n%s", logs)
		}
	})
}

// TestE2EMaxConnections: CONNECTs beyond Config.MaxConnections are refused
// (MQTT 5: 0x89 server busy; 3.1.1: 0x03 server unavailable) and the
// connection closed; once a client leaves, a new one is accepted.
func TestE2EMaxConnections(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{MaxConnections: 2})
		one := client(t, srv, v, "one")
		client(t, srv, v, "two")
		extra := brokertest.Dial(t, srv.Addr, v)
		want := byVersion(v, mqtt.ServerBusy, mqtt.V311ServerUnavailable)
		if ack := extra.Connect("three", true, nil); ack.Reason != want {
			t.Fatalf("CONNECT beyond the limit: CONNACK %#x, want %#x", byte(ack.Reason), byte(want))
		}
		expectClosedSilently(t, extra)
		one.Disconnect(nil)
		srv.WaitStats("one connection left", logWait, func(s broker.Stats) bool { return s.Connections == 1 })
		client(t, srv, v, "four").Sync()
	})
}

// TestE2EByteByByte: packets that arrive one byte per TCP segment (CONNECT,
// SUBSCRIBE, PUBLISH) are reassembled and handled like whole ones.
func TestE2EByteByByte(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{})
		c := brokertest.Dial(t, srv.Addr, v)
		trickle := func(b []byte) {
			for i := range b {
				c.Send(b[i : i+1])
			}
		}
		trickle(connectPacket(v, "trickle"))
		if ack := c.ExpectConnack(); ack.Reason != mqtt.Success {
			t.Fatalf("CONNACK %s", ack.Reason)
		}
		trickle(mqtt.AppendSubscribe(nil, v, &mqtt.Subscribe{PacketID: 1, Filters: []mqtt.Subscription{{Filter: []byte("tr/#"), QoS: 1}}}))
		c.Expect(mqtt.SUBACK)
		trickle(mqtt.AppendPublish(nil, v, &mqtt.Publish{Topic: []byte("tr/t"), QoS: 1, PacketID: 1, Payload: []byte("drip")}))
		expectMessage(t, c, "tr/t", "drip", 1)
		c.ExpectAck(mqtt.PUBACK)
	})
}
