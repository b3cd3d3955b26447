package broker

import (
	"testing"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

// FuzzConnectionInput feeds arbitrary bytes, split in two reads, to a
// connection of a live broker, after a valid CONNECT of either version, with
// a subscriber and a publisher around it. Whatever the input, the broker must
// not panic, and the bystanders must keep working.
func FuzzConnectionInput(f *testing.F) {
	for _, v := range []mqtt.Version{mqtt.V311, mqtt.V5} {
		var seed []byte
		seed = mqtt.AppendSubscribe(seed, v, &mqtt.Subscribe{PacketID: 7, Filters: []mqtt.Subscription{{Filter: []byte("a/#"), QoS: 2}}})
		seed = mqtt.AppendPublish(seed, v, &mqtt.Publish{Topic: []byte("a/b"), Payload: []byte("x"), QoS: 2, PacketID: 9, Retain: true})
		seed = mqtt.AppendAck(seed, v, &mqtt.Ack{Type: mqtt.PUBREL, PacketID: 9})
		seed = mqtt.AppendUnsubscribe(seed, v, &mqtt.Unsubscribe{PacketID: 8, Filters: [][]byte{[]byte("a/#")}})
		seed = mqtt.AppendPingreq(seed)
		seed = mqtt.AppendDisconnect(seed, v, &mqtt.Disconnect{})
		f.Add(byte(v), seed, uint16(len(seed)/2))
	}
	f.Add(byte(mqtt.V5), []byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x7f}, uint16(3))
	f.Fuzz(func(t *testing.T, version byte, input []byte, split uint16) {
		v := mqtt.V311
		if version%2 == 1 {
			v = mqtt.V5
		}
		f := newFanoutFixture(t, 1, v)
		h := f.b.Open(&sinkConn{})
		connect := mqtt.AppendConnect(nil, &mqtt.Connect{Version: v, ClientID: []byte("fuzz"), KeepAlive: 30,
			WillFlag: true, WillTopic: []byte("a/will"), WillPayload: []byte("w")})
		if err := h.OnData(connect); err != nil {
			t.Fatalf("CONNECT: %v", err)
		}
		cut := int(split) % (len(input) + 1)
		if err := h.OnData(input[:cut]); err == nil {
			h.OnData(input[cut:])
		}
		h.OnClose(nil)
		before := f.sinks[0].bytesWritten()
		if err := f.pub.OnData(publishBatch(v, 1, 8)); err != nil {
			t.Fatalf("bystander publish: %v", err)
		}
		if f.sinks[0].bytesWritten() <= before {
			t.Fatal("bystander subscriber no longer receives")
		}
	})
}
