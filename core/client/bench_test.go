package client_test

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/client"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// batch is count pre-encoded PUBLISH packets of size-byte payloads, all
// the same length, so that any number of them is a prefix of a batch.
type batch struct {
	bytes []byte
	count int
	each  int // bytes per packet
}

// encodeBatch encodes count PUBLISH packets to topic. With alias > 0 (MQTT
// 5) the first packet sets the topic alias and the others use it with an
// empty topic; such a batch is not split.
func encodeBatch(v mqtt.Version, topic string, size, count int, qos mqtt.QoS, alias uint16) batch {
	var out []byte
	payload := make([]byte, size)
	for i := range count {
		p := mqtt.Publish{Topic: []byte(topic), Payload: payload, QoS: qos, PacketID: uint16(i%65535 + 1)}
		if alias > 0 {
			p.Props.TopicAlias = alias
			p.Props.Set(mqtt.PropTopicAlias)
			if i > 0 {
				p.Topic = nil
			}
		}
		out = mqtt.AppendPublish(out, v, &p)
	}
	return batch{bytes: out, count: count, each: len(out) / count}
}

// counter is a Handler counting messages, signalling when it reaches a
// target. It runs on the client's reader goroutine.
type counter struct {
	n      int64
	target atomic.Int64
	done   chan struct{}
}

func newCounter() *counter { return &counter{done: make(chan struct{}, 1)} }

func (c *counter) handle(m *client.Message) {
	c.n++
	if c.n == c.target.Load() {
		c.done <- struct{}{}
	}
}

// floodSetup connects a client to a raw server that will write pre-encoded
// messages to it.
func floodSetup(tb testing.TB, opts client.Options) (*client.Client, *rawConn, *counter) {
	raw := startRawServer(tb)
	cnt := newCounter()
	opts.Handler = cnt.handle
	c := dial(tb, raw.Addr, opts)
	rc := raw.accept(tb)
	go io.Copy(io.Discard, rc) // acknowledgements and pings
	return c, rc, cnt
}

// BenchmarkReceive measures the client's receive path alone: a raw TCP
// peer floods pre-encoded PUBLISH packets into one connection as fast as
// loopback takes them; the handler counts. msgs/s is per connection.
func BenchmarkReceive(b *testing.B) {
	for _, v := range []mqtt.Version{mqtt.V5, mqtt.V311} {
		for _, size := range []int{64, 1024} {
			b.Run(fmt.Sprintf("mqtt=%s/size=%d", v, size), func(b *testing.B) {
				_, rc, cnt := floodSetup(b, client.Options{ClientID: "sink", Version: v})
				bt := encodeBatch(v, "bench/topic", size, 4096, 0, 0)
				cnt.target.Store(int64(b.N))
				b.SetBytes(int64(size))
				b.ResetTimer()
				go func() {
					for left := b.N; left > 0; left -= bt.count {
						n := min(left, bt.count)
						if _, err := rc.Write(bt.bytes[:n*bt.each]); err != nil {
							return
						}
					}
				}()
				<-cnt.done
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}

// BenchmarkPublish measures QoS 0 publishing of 64-byte messages into a
// peer that discards them: batched with ManualFlush (one Flush per 256
// messages) and written one by one; and QoS 1 through a real broker, one
// round trip per message and pipelined with PublishAsync.
func BenchmarkPublish(b *testing.B) {
	payload := make([]byte, 64)
	ctx := context.Background()
	for _, manual := range []bool{true, false} {
		b.Run(fmt.Sprintf("qos=0/manualflush=%v", manual), func(b *testing.B) {
			raw := startRawServer(b)
			c := dial(b, raw.Addr, client.Options{ClientID: "pub", ManualFlush: manual})
			go io.Copy(io.Discard, raw.accept(b))
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := c.Publish(ctx, "bench/topic", payload, client.PublishOptions{}); err != nil {
					b.Fatal(err)
				}
				if manual && i%256 == 255 {
					c.Flush()
				}
			}
			c.Flush()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
	for _, async := range []bool{false, true} {
		b.Run(fmt.Sprintf("qos=1/broker/async=%v", async), func(b *testing.B) {
			s := brokertest.Start(b, "goroutine", broker.Config{})
			c := dial(b, s.Addr, client.Options{ClientID: "pub"})
			b.ResetTimer()
			var last *client.Pending
			for range b.N {
				var err error
				if async {
					last, err = c.PublishAsync(ctx, "bench/topic", payload, client.PublishOptions{QoS: 1})
				} else {
					err = c.Publish(ctx, "bench/topic", payload, client.PublishOptions{QoS: 1})
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			if last != nil {
				last.Wait(ctx)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// TestReceiveAllocs: in steady state, receiving allocates nothing per
// message: QoS 0, QoS 1 (with the PUBACKs written back), and topics
// arriving through an alias. What remains is per read, not per message:
// core/mqtt's Parser copies a packet split across two reads into a scratch
// buffer that it releases whenever a read ends on a packet boundary (so
// that an idle broker connection holds none), that is up to two small
// allocations per read of up to 64 KiB. A run here is 1000 messages in
// about two reads.
func TestReceiveAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, tc := range []struct {
		name  string
		qos   mqtt.QoS
		alias uint16
	}{{"qos0", 0, 0}, {"qos1", 1, 0}, {"alias", 0, 3}} {
		t.Run(tc.name, func(t *testing.T) {
			_, rc, cnt := floodSetup(t, client.Options{ClientID: "sink", TopicAliasMaximum: 5})
			bt := encodeBatch(mqtt.V5, "alloc/topic", 64, 1000, tc.qos, tc.alias)
			var target int64
			run := func() {
				target += int64(bt.count)
				cnt.target.Store(target)
				if _, err := rc.Write(bt.bytes); err != nil {
					t.Fatal(err)
				}
				<-cnt.done
			}
			run() // warm up: buffers reach their size
			if allocs := testing.AllocsPerRun(20, run); allocs > 4 {
				t.Errorf("%.1f allocations per %d messages, want at most 2 per read", allocs, bt.count)
			}
		})
	}
}
