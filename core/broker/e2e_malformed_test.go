package broker_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// Limits of the malformed-input broker.
const (
	badMaxPacket      = 1024
	badConnectTimeout = 500 * time.Millisecond
)

// publishPacket encodes a PUBLISH without any check, for bad topics.
func publishPacket(v mqtt.Version, topic string, qos mqtt.QoS, id uint16) []byte {
	return mqtt.AppendPublish(nil, v, &mqtt.Publish{Topic: []byte(topic), QoS: qos, PacketID: id, Payload: []byte("x")})
}

// subscribePacket encodes a SUBSCRIBE to filters without any check.
func subscribePacket(v mqtt.Version, filters ...string) []byte {
	s := &mqtt.Subscribe{PacketID: 1}
	for _, f := range filters {
		s.Filters = append(s.Filters, mqtt.Subscription{Filter: []byte(f)})
	}
	return mqtt.AppendSubscribe(nil, v, s)
}

// connectPacket encodes a CONNECT for clientID at version v.
func connectPacket(v mqtt.Version, clientID string) []byte {
	return mqtt.AppendConnect(nil, &mqtt.Connect{Version: v, CleanStart: true, KeepAlive: 60, ClientID: []byte(clientID)})
}

// Offsets in a short CONNECT: the protocol level and the connect flags come
// after the 2-byte fixed header and the 6-byte protocol name.
const (
	connectLevelAt = 8
	connectFlagsAt = 9
)

// withByte returns b with b[i] replaced by f(b[i]).
func withByte(b []byte, i int, f func(byte) byte) []byte {
	b[i] = f(b[i])
	return b
}

// connectedInput is bad input from a connected client (bytes returns nil for
// a version the input does not apply to): the broker closes the connection after an MQTT 5 DISCONNECT with reason [MQTT-4.13.1-1] (3.1.1:
// without one) and logs a WARN line naming the client and the reason.
type connectedInput struct {
	name   string
	bytes  func(v mqtt.Version) []byte
	reason mqtt.ReasonCode
}

var connectedInputs = []connectedInput{
	{"reserved packet type 0", func(mqtt.Version) []byte { return []byte{0x00, 0x00} }, mqtt.MalformedPacket},
	{"remaining length of 5 bytes", func(mqtt.Version) []byte { return []byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x7f} }, mqtt.MalformedPacket},
	{"second CONNECT", func(v mqtt.Version) []byte { return connectPacket(v, "again") }, mqtt.ProtocolError},                              // [MQTT-3.1.0-2]
	{"SUBSCRIBE flags 0000", func(v mqtt.Version) []byte { return withByte(subscribePacket(v, "a"), 0, clearLow) }, mqtt.MalformedPacket}, // [MQTT-3.8.1-1]
	{"PUBLISH QoS 3", func(v mqtt.Version) []byte { return withByte(publishPacket(v, "a", 0, 0), 0, setQoS3) }, mqtt.MalformedPacket},     // [MQTT-3.3.1-4]
	{"PUBLISH QoS 0 with DUP", func(v mqtt.Version) []byte { return withByte(publishPacket(v, "a", 0, 0), 0, setDup) }, mqtt.ProtocolError},
	{"PUBLISH QoS 1 with packet id 0", func(v mqtt.Version) []byte { return publishPacket(v, "a", 1, 0) }, mqtt.ProtocolError},      // [MQTT-2.2.1-3]
	{"invalid UTF-8 in a topic", func(v mqtt.Version) []byte { return publishPacket(v, "a/\xff\xfe", 0, 0) }, mqtt.MalformedPacket}, // [MQTT-1.5.4-1]
	{"U+0000 in a topic", func(v mqtt.Version) []byte { return publishPacket(v, "a/\x00", 0, 0) }, mqtt.MalformedPacket},            // [MQTT-1.5.4-2]
	{"invalid UTF-8 in a filter", func(v mqtt.Version) []byte { return subscribePacket(v, "a/\xc0") }, mqtt.MalformedPacket},
	{"+ in a PUBLISH topic", func(v mqtt.Version) []byte { return publishPacket(v, "a/+/b", 0, 0) }, mqtt.TopicNameInvalid}, // [MQTT-3.3.2-2]
	{"# in a PUBLISH topic", func(v mqtt.Version) []byte { return publishPacket(v, "a/#", 1, 3) }, mqtt.TopicNameInvalid},
	{"invalid topic filter", func(v mqtt.Version) []byte { return subscribePacket(v, "a/#/b") }, mqtt.TopicFilterInvalid}, // [MQTT-4.7.1-1]
	{"SUBSCRIBE without filters", func(v mqtt.Version) []byte { return subscribePacket(v) }, mqtt.ProtocolError},          // [MQTT-3.8.3-2]
	{"PUBLISH from a client with a subscription identifier", func(v mqtt.Version) []byte {
		if v != mqtt.V5 {
			return nil // MQTT 5 only
		}
		return mqtt.AppendPublish(nil, v, &mqtt.Publish{Topic: []byte("a"), Payload: []byte("x"), Props: mqtt.Properties{SubscriptionIDs: []uint32{7}}})
	}, mqtt.ProtocolError}, // [MQTT-3.3.4-6]
	{"CONNACK from a client", func(mqtt.Version) []byte { return []byte{0x20, 0x02, 0x00, 0x00} }, mqtt.ProtocolError},
	{"remaining length over the maximum packet size", func(mqtt.Version) []byte {
		return mqtt.AppendVarint([]byte{0x30}, 2*badMaxPacket) // and nothing more: the header is enough
	}, mqtt.PacketTooLarge},
}

func clearLow(b byte) byte { return b &^ 0x0f }
func setQoS3(b byte) byte  { return b | 0b0110 }
func setDup(b byte) byte   { return b | 0b1000 }

// preConnectInput is bad input from a client that is not connected yet:
// the broker answers CONNACK with connack (-1: closes without a CONNACK,
// since it cannot know the client's version), and logs warn.
type preConnectInput struct {
	name    string
	v       mqtt.Version // to decode the CONNACK with
	bytes   []byte
	connack int
	warn    string // after "WARN: Client (ADDR) "
}

var preConnectInputs = []preConnectInput{
	{"garbage", mqtt.V311, []byte{0x00, 0x01, 0x02, 0x03}, -1, "closed: malformed packet (0x81)"},
	{"PINGREQ before CONNECT", mqtt.V311, mqtt.AppendPingreq(nil), -1, "closed: protocol error (0x82): mqtt: PINGREQ before CONNECT"}, // [MQTT-3.1.0-1]
	{"PUBLISH before CONNECT", mqtt.V5, publishPacket(mqtt.V5, "a", 0, 0), -1, "closed: protocol error (0x82): mqtt: PUBLISH before CONNECT"},
	{"CONNECT with flags 0010", mqtt.V5, withByte(connectPacket(mqtt.V5, "x"), 0, func(b byte) byte { return b | 2 }), -1, "closed: malformed packet (0x81)"},
	{"CONNECT reserved flag, MQTT 5", mqtt.V5, withByte(connectPacket(mqtt.V5, "x"), connectFlagsAt, func(b byte) byte { return b | 1 }),
		int(mqtt.MalformedPacket), "refused: malformed packet (0x81)"}, // [MQTT-3.1.2-3]
	{"CONNECT reserved flag, MQTT 3.1.1", mqtt.V311, withByte(connectPacket(mqtt.V311, "x"), connectFlagsAt, func(b byte) byte { return b | 1 }),
		-1, "closed: malformed packet (0x81)"},
	{"CONNECT with an invalid UTF-8 client id", mqtt.V5, connectPacket(mqtt.V5, "\xff"), int(mqtt.MalformedPacket), "refused: malformed packet (0x81)"},
	{"CONNECT over the maximum packet size", mqtt.V5, mqtt.AppendVarint([]byte{0x10}, 2*badMaxPacket), -1, "closed: packet too large (0x95)"},
	{"protocol level 6", mqtt.V311, withByte(connectPacket(mqtt.V311, "x"), connectLevelAt, func(byte) byte { return 6 }),
		int(mqtt.V311UnacceptableProtocol), "refused: unsupported protocol version (0x84)"}, // [MQTT-3.1.2-2]
	{"protocol MQIsdp level 3", mqtt.V311, append([]byte{0x10, 15, 0, 6}, "MQIsdp\x03\x02\x00\x3c\x00\x01x"...),
		int(mqtt.V311UnacceptableProtocol), "refused: unsupported protocol version (0x84)"},
	{"CONNECT with an authentication method", mqtt.V5, mqtt.AppendConnect(nil, &mqtt.Connect{Version: mqtt.V5, CleanStart: true,
		Props: mqtt.Properties{AuthMethod: []byte("SCRAM-SHA-1")}}), // no client id: the WARN line names the address alone
		int(mqtt.BadAuthenticationMethod), "refused: bad authentication method (0x8c)"}, // [MQTT-4.12.0-1]
	{"will on a $SYS topic", mqtt.V5, mqtt.AppendConnect(nil, &mqtt.Connect{Version: mqtt.V5, CleanStart: true,
		WillFlag: true, WillTopic: []byte("$SYS/fake"), WillPayload: []byte("x")}),
		int(mqtt.NotAuthorized), "refused: not authorized (0x87)"},
	{"the start of an HTTP request", mqtt.V311, []byte("GET / HTTP/1.1\r\n"), -1,
		"closed: protocol error (0x82): mqtt: PUBACK before CONNECT"}, // at once: 'G' is a PUBACK header
	{"no CONNECT", mqtt.V311, nil, -1, "closed: no CONNECT within " + badConnectTimeout.String()},
	{"half a CONNECT", mqtt.V5, connectPacket(mqtt.V5, "slowpoke")[:7], -1, "closed: no CONNECT within " + badConnectTimeout.String()},
}

// TestE2EMalformedInput sends each kind of bad input on its own connection
// and checks that the broker closes that connection alone, with the right
// reason (MQTT 5 DISCONNECT, or CONNACK for CONNECT errors) and a WARN line,
// while publishing between two other clients carries on.
func TestE2EMalformedInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{MaxPacketSize: badMaxPacket, ConnectTimeout: badConnectTimeout})
		pub := client(t, srv, mqtt.V5, "bystander-pub")
		sub := client(t, srv, mqtt.V311, "bystander-sub")
		subscribe(t, sub, 1, "bystander/t")
		seq := 0
		check := func(t *testing.T, c *brokertest.RawClient, warn string, counted bool, before broker.Stats) {
			t.Helper()
			srv.WaitLog(warn, logWait)
			if counted {
				srv.WaitStats("protocol error counted", logWait, func(s broker.Stats) bool { return s.ProtocolErrors == before.ProtocolErrors+1 })
			}
			seq++
			flowing(t, pub, sub, "bystander/t", seq)
		}

		for i, in := range connectedInputs {
			for _, v := range versions {
				bad := in.bytes(v)
				if bad == nil {
					continue // not an input of this version
				}
				t.Run(fmt.Sprintf("%s/mqtt%s", in.name, v), func(t *testing.T) {
					id := fmt.Sprintf("bad-%d", i)
					c := client(t, srv, v, id)
					before := srv.Broker.Stats()
					c.Send(bad)
					expectDisconnect(t, c, in.reason)
					check(t, c, fmt.Sprintf("WARN: Client %s (%s) closed: %s", id, c.LocalAddr(), in.reason), true, before)
				})
			}
		}
		for _, in := range preConnectInputs {
			t.Run(in.name, func(t *testing.T) {
				c := brokertest.Dial(t, srv.Addr, in.v)
				before, sent := srv.Broker.Stats(), time.Now()
				if in.bytes != nil {
					c.Send(in.bytes)
				}
				if in.connack >= 0 {
					if ack := c.ExpectConnack(); int(ack.Reason) != in.connack || ack.SessionPresent {
						t.Fatalf("CONNACK %#x session present %v, want %#x and 0", byte(ack.Reason), ack.SessionPresent, in.connack)
					}
				}
				expectClosedSilently(t, c)
				timeout := in.bytes == nil || in.name == "half a CONNECT"
				if took := time.Since(sent); timeout && took < badConnectTimeout-100*time.Millisecond {
					t.Fatalf("closed after %v, before the CONNECT timeout %v", took, badConnectTimeout)
				}
				check(t, c, fmt.Sprintf("WARN: Client (%s) %s", c.LocalAddr(), in.warn), !timeout, before)
			})
		}
	})
}
