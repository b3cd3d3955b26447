package broker_test

import (
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/acl"
	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// TestE2EServerShutdown: Broker.Close tells MQTT 5 clients DISCONNECT 0x8B
// (server shutting down) and closes every connection; 3.1.1 clients are
// closed. Afterwards nothing is served.
func TestE2EServerShutdown(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{})
		c5, _ := persistent(t, srv, mqtt.V5, "five", nil)
		c3, _ := persistent(t, srv, mqtt.V311, "three", nil)
		subscribe(t, c5, 1, "x/#")
		srv.Stop()
		expectDisconnect(t, c5, mqtt.ServerShuttingDown)
		expectDisconnect(t, c3, mqtt.ServerShuttingDown)
		srv.WaitLog("Client five ("+c5.LocalAddr()+") disconnected: server shutting down", logWait)

		nc, err := net.DialTimeout("tcp", srv.Addr, brokertest.DefaultWait)
		if err == nil { // accepted by the kernel's backlog at most: must not be served
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(brokertest.DefaultWait))
			nc.Write(mqtt.AppendConnect(nil, &mqtt.Connect{Version: mqtt.V5, CleanStart: true, ClientID: []byte("late")}))
			if n, err := nc.Read(make([]byte, 16)); n > 0 || !errors.Is(err, io.EOF) && !isReset(err) {
				t.Fatalf("after shutdown a new connection read %d bytes, %v; want it closed", n, err)
			}
		}
	})
}

// isReset reports whether err is a connection reset (a closed listener's
// answer on some systems).
func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "reset")
}

// aclFile is a mosquitto acl_file: anonymous clients may read and write
// public/# except public/secret, only read news/#, only write inbox/#; the
// user editor may write news/#.
const aclFile = `
# anonymous clients
topic readwrite public/#
topic deny public/secret
topic read news/#
topic write inbox/#

user editor
topic readwrite news/#
`

// parseACL parses aclFile.
func parseACL(t *testing.T) *acl.ACL {
	t.Helper()
	rules, err := acl.Parse(strings.NewReader(aclFile))
	if err != nil {
		t.Fatalf("acl.Parse: %v", err)
	}
	return rules
}

// withUser sets a CONNECT's username.
func withUser(name string) func(*mqtt.Connect) {
	return func(cp *mqtt.Connect) { cp.HasUsername, cp.Username = true, []byte(name) }
}

// TestE2EACL checks Config.ACL: a denied publish is acknowledged with 0x87
// in MQTT 5 (3.1.1 has no code: plain PUBACK) and not routed; deliveries
// and retained messages on topics a client may not read are withheld from
// it, whatever its subscription; a will to a topic the client may not write
// is refused at CONNECT.
func TestE2EACL(t *testing.T) {
	rules := parseACL(t)
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{ACL: rules})
		reader := client(t, srv, v, "reader")
		subscribe(t, reader, 1, "#")
		anon := client(t, srv, v, "anon")
		editor, _ := connect(t, srv, v, "editor", true, withUser("editor"))
		denied := byVersion(v, mqtt.NotAuthorized, mqtt.Success)

		for _, tc := range []struct {
			who       *brokertest.RawClient
			topic     string
			reason    mqtt.ReasonCode
			delivered bool // to the anonymous reader subscribed to #
		}{
			{anon, "public/a", mqtt.Success, true},
			{anon, "public/secret", denied, false},
			{anon, "news/x", denied, false},
			{editor, "news/x", mqtt.Success, true},
			{anon, "inbox/x", mqtt.Success, false}, // written, but the reader may not read it
		} {
			if got := publishRouted(t, tc.who, tc.topic, "acl"); got != tc.reason {
				t.Errorf("publish to %s: reason %s, want %s", tc.topic, got, tc.reason)
			}
			if tc.delivered {
				expectMessage(t, reader, tc.topic, "acl", 1)
			}
			reader.Sync()
		}
		srv.WaitLog("WARN: Client anon: publish to news/x denied by the ACL", logWait)
		if st := srv.Broker.Stats(); st.DroppedDenied != 2 {
			t.Errorf("DroppedDenied %d, want 2", st.DroppedDenied)
		}

		// Retained messages follow the read rules too.
		anon.PublishFlow("inbox/r", "retained", 1, true, 2, nil)
		anon.PublishFlow("public/r", "retained", 1, true, 3, nil)
		reader.Drain()
		late := client(t, srv, v, "late")
		subscribe(t, late, 1, "#")
		if got := expectRetained(t, late, 1); string(got[0].Topic) != "public/r" {
			t.Errorf("retained %s sent to a client that may not read it", got[0].Topic)
		}
		late.Sync()

		// A will to a topic the client may not write is refused.
		c := brokertest.Dial(t, srv.Addr, v)
		want := byVersion(v, mqtt.NotAuthorized, mqtt.V311NotAuthorized)
		if ack := c.Connect("willful", true, withWill("news/will", "x", false, 0)); ack.Reason != want {
			t.Errorf("CONNECT with a will to a read-only topic: CONNACK %#x, want %#x", byte(ack.Reason), byte(want))
		}
		expectClosedSilently(t, c)
	})
}

// TestE2EACLSubscribeDenied: a filter the ACL refuses (one that can never
// deliver anything to the client: no read grant overlaps it, or a deny rule
// covers it) gets SUBACK 0x87 (MQTT 5) or 0x80 (3.1.1) and a WARN line; the
// other filters of the SUBSCRIBE are granted [MQTT-3.9.3-1].
func TestE2EACLSubscribeDenied(t *testing.T) {
	rules := parseACL(t)
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{ACL: rules})
		c := client(t, srv, v, "anon")
		no := byVersion(v, mqtt.NotAuthorized, mqtt.V311SubackFailure)
		got := c.Subscribe(1, nil, "public/#", "inbox/#", "news/+", "public/secret")
		want := []mqtt.ReasonCode{mqtt.GrantedQoS1, no, mqtt.GrantedQoS1, no}
		if !slices.Equal(got, want) {
			t.Fatalf("SUBACK %v, want %v", got, want)
		}
		srv.WaitLog("WARN: Client anon: subscription to inbox/# denied by the ACL", logWait)
		// The refused filter holds no subscription: the only one matching
		// inbox/x would be it.
		pub := client(t, srv, v, "pub")
		if v == mqtt.V5 {
			if got := publishRouted(t, pub, "inbox/x", "x"); got != mqtt.NoMatchingSubscribers {
				t.Fatalf("publish to inbox/x: %s, want no matching subscribers", got)
			}
		}
		c.Sync()
	})
}
