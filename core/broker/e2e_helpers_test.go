package broker_test

// The end-to-end suite: a real broker on every registered engine, on
// loopback, spoken to packet by packet by brokertest.RawClient. Every
// scenario runs once per engine (as tidwall/evio's tests do), and once per
// protocol version where both apply, as parallel subtests
// TestE2E.../ENGINE/mqttVERSION.
//
// Synchronisation never relies on sleeping: a test waits for a packet, a log
// line or a broker statistic, each with a generous deadline. Absence is
// proved with RawClient.Sync where the broker's ordering allows it, and
// only otherwise by a short ExpectNothing. The few real waits are for time
// itself to pass (keep-alive, grace periods, will delays, message expiry),
// with small configured values.

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// e2eParallel is how many tests this package runs at once unless -parallel
// is given: its tests spend most of their time waiting for keep-alives,
// grace periods and sockets, not on a CPU, so GOMAXPROCS (the default, 2 on
// CI) would make the suite several times slower for nothing.
const e2eParallel = 8

// TestMain raises the default of -test.parallel to e2eParallel.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit && runtime.GOMAXPROCS(0) < e2eParallel {
		flag.Set("test.parallel", fmt.Sprint(e2eParallel))
	}
	os.Exit(m.Run())
}

// versions are the protocol versions the broker speaks.
var versions = []mqtt.Version{mqtt.V311, mqtt.V5}

// logWait bounds waits for log lines and statistics.
const logWait = brokertest.DefaultWait

// quietWait is how long ExpectNothing waits where Sync cannot prove an
// absence (a delivery that would come from a timer, not from a packet).
const quietWait = 300 * time.Millisecond

// forEachEngine runs fn as a parallel subtest for every registered engine;
// t itself runs in parallel with the package's other tests.
func forEachEngine(t *testing.T, fn func(t *testing.T, engine string)) {
	t.Parallel()
	for _, engine := range brokertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			fn(t, engine)
		})
	}
}

// forEachEngineVersion runs fn as a parallel subtest for every engine and
// protocol version.
func forEachEngineVersion(t *testing.T, fn func(t *testing.T, engine string, v mqtt.Version)) {
	forEachEngine(t, func(t *testing.T, engine string) {
		for _, v := range versions {
			t.Run("mqtt"+v.String(), func(t *testing.T) {
				t.Parallel()
				fn(t, engine, v)
			})
		}
	})
}

// start serves a broker with cfg on engine.
func start(t *testing.T, engine string, cfg broker.Config) *brokertest.Server {
	t.Helper()
	return brokertest.Start(t, engine, cfg)
}

// startPair starts a broker with cfg and two clients of version v: "sub",
// subscribed to filter at qos, and "pub".
func startPair(t *testing.T, engine string, v mqtt.Version, cfg broker.Config, qos mqtt.QoS, filter string) (srv *brokertest.Server, sub, pub *brokertest.RawClient) {
	t.Helper()
	srv = start(t, engine, cfg)
	sub = client(t, srv, v, "sub")
	subscribe(t, sub, qos, filter)
	return srv, sub, client(t, srv, v, "pub")
}

// connect dials srv and connects clientID with protocol v, failing the test
// unless the broker accepts. The CONNACK is returned for further checks.
func connect(t *testing.T, srv *brokertest.Server, v mqtt.Version, clientID string, clean bool, edit func(*mqtt.Connect)) (*brokertest.RawClient, *mqtt.Connack) {
	t.Helper()
	c := brokertest.Dial(t, srv.Addr, v)
	ack := c.Connect(clientID, clean, edit)
	if ack.Reason != mqtt.Success {
		t.Fatalf("CONNECT %q (MQTT %s): CONNACK %s", clientID, v, ack.Reason)
	}
	return c, ack
}

// client is connect without the CONNACK: a clean session.
func client(t *testing.T, srv *brokertest.Server, v mqtt.Version, clientID string) *brokertest.RawClient {
	t.Helper()
	c, _ := connect(t, srv, v, clientID, true, nil)
	return c
}

// persistent connects clientID with a session that outlives the connection:
// clean start 0 and, in MQTT 5, a Session Expiry Interval of an hour (the
// broker caps it at its grace period). It returns the client and whether
// the broker said the session was present.
func persistent(t *testing.T, srv *brokertest.Server, v mqtt.Version, clientID string, edit func(*mqtt.Connect)) (*brokertest.RawClient, bool) {
	t.Helper()
	c, ack := connect(t, srv, v, clientID, false, func(cp *mqtt.Connect) {
		withSessionExpiry(3600)(cp)
		if edit != nil {
			edit(cp)
		}
	})
	return c, ack.SessionPresent
}

// withSessionExpiry sets an MQTT 5 CONNECT's Session Expiry Interval; it
// does nothing to a 3.1.1 CONNECT.
func withSessionExpiry(seconds uint32) func(*mqtt.Connect) {
	return func(cp *mqtt.Connect) {
		if cp.Version == mqtt.V5 {
			cp.Props.SessionExpiry = seconds
			cp.Props.Set(mqtt.PropSessionExpiry)
		}
	}
}

// subscribe subscribes c to filter at qos and fails unless it is granted.
func subscribe(t *testing.T, c *brokertest.RawClient, qos mqtt.QoS, filter string) {
	t.Helper()
	subscribeWith(t, c, qos, filter, nil)
}

// subscribeWith is subscribe with an edit of the SUBSCRIBE (options,
// subscription identifier).
func subscribeWith(t *testing.T, c *brokertest.RawClient, qos mqtt.QoS, filter string, edit func(*mqtt.Subscribe)) {
	t.Helper()
	reasons := c.Subscribe(qos, edit, filter)
	if len(reasons) != 1 || reasons[0] != mqtt.ReasonCode(qos) {
		t.Fatalf("SUBSCRIBE %s at QoS %d: SUBACK %v", filter, qos, reasons)
	}
}

// expectMessage reads the next PUBLISH, checks its topic, payload and QoS,
// acknowledges it and returns it.
func expectMessage(t *testing.T, c *brokertest.RawClient, topic, payload string, qos mqtt.QoS) *mqtt.Publish {
	t.Helper()
	p := c.ExpectPublish()
	if string(p.Topic) != topic || string(p.Payload) != payload || p.QoS != qos {
		t.Fatalf("got PUBLISH %s %q at QoS %d, want %s %q at QoS %d", p.Topic, p.Payload, p.QoS, topic, payload, qos)
	}
	c.Ack(p)
	return p
}

// publishRouted publishes payload to topic at QoS 1 with packet id 1 and
// waits for the PUBACK: once it returns, every delivery of the message is
// queued in its subscribers' connections (or sessions), so a subscriber's
// Sync proves what it did not receive.
func publishRouted(t *testing.T, c *brokertest.RawClient, topic, payload string) mqtt.ReasonCode {
	t.Helper()
	return c.PublishFlow(topic, payload, 1, false, 1, nil)
}

// flowing checks that the broker still routes between pub and sub (sub
// subscribed to topic at QoS 1 or more): bad input elsewhere must not stop
// it.
func flowing(t *testing.T, pub, sub *brokertest.RawClient, topic string, seq int) {
	t.Helper()
	payload := fmt.Sprintf("still flowing %d", seq)
	publishRouted(t, pub, topic, payload)
	expectMessage(t, sub, topic, payload, 1)
}

// expectClosedSilently fails unless the broker closes c without sending a
// DISCONNECT: after a refusing CONNACK [MQTT-3.2.2-7], or before CONNECT.
func expectClosedSilently(t *testing.T, c *brokertest.RawClient) {
	t.Helper()
	if got := c.ExpectClosed(); got != -1 {
		t.Fatalf("closed after a DISCONNECT with reason %#x, want no DISCONNECT", got)
	}
}

// expectDisconnect fails unless the broker closes c, after a DISCONNECT with
// reason want in MQTT 5 and without one in 3.1.1 (which has none).
func expectDisconnect(t *testing.T, c *brokertest.RawClient, want mqtt.ReasonCode) {
	t.Helper()
	got := c.ExpectClosed()
	if c.Version != mqtt.V5 {
		if got != -1 {
			t.Fatalf("MQTT 3.1.1 client got a DISCONNECT (reason %#x)", got)
		}
		return
	}
	if got != int(want) {
		t.Fatalf("closed with DISCONNECT reason %#x, want %s", got, want)
	}
}

// byVersion returns v5 for an MQTT 5 client and v311 for a 3.1.1 one: the
// reason code each version expects where they differ (3.1.1 often has none,
// that is Success).
func byVersion(v mqtt.Version, v5, v311 mqtt.ReasonCode) mqtt.ReasonCode {
	if v == mqtt.V5 {
		return v5
	}
	return v311
}

// payloads returns the payloads of ps, for messages in failures.
func payloads(ps []*mqtt.Publish) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p.Payload)
	}
	return out
}
