package broker_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/mqtt"
	"github.com/pubsubx/pubsubx/engines"
)

// Bounds of the slow-consumer broker: small, so that a subscriber that stops
// reading hits them after a few hundred KiB.
const (
	slowMaxQueued   = 200
	slowMaxOutbound = 256 << 10 // over a batch: readers that keep up never fill it
	floodBatch      = 16
	floodSize       = 8 << 10  // large: the kernel's socket buffers take MiBs before the bounds bite
	floodCap        = 64 << 20 // give up: the bounds never bit
)

// floodBatchPacket encodes floodBatch QoS 0 PUBLISH packets numbered from
// first, each with a floodSize payload starting with its number.
func floodBatchPacket(v mqtt.Version, first int) []byte {
	var out []byte
	payload := make([]byte, floodSize)
	for i := range floodBatch {
		binary.BigEndian.PutUint64(payload, uint64(first+i))
		out = mqtt.AppendPublish(out, v, &mqtt.Publish{Topic: []byte("flood/t"), Payload: payload})
	}
	return out
}

// expectFlood reads floodBatch messages numbered from first, in order.
func expectFlood(t *testing.T, c *brokertest.RawClient, first int) {
	t.Helper()
	for i := range floodBatch {
		p := c.ExpectPublish()
		if len(p.Payload) != floodSize {
			t.Fatalf("flood message of %d bytes, want %d", len(p.Payload), floodSize)
		}
		if got := int(binary.BigEndian.Uint64(p.Payload)); got != first+i {
			t.Fatalf("fast subscriber got message %d, want %d: messages lost or reordered", got, first+i)
		}
	}
}

// TestE2ESlowConsumer: a subscriber that never reads (a tiny socket receive
// buffer, no reads) while a publisher floods must not slow down or starve
// the other subscribers, which receive every message in order; the broker
// diverts the stuck subscriber's deliveries to its bounded queue
// (Stats.SlowConsumer), drops beyond it (Stats.DroppedQueueFull, a WARN
// line), and holds at most Config.MaxQueuedMessages for it plus the engine's
// Options.MaxOutboundBytes: memory stays bounded.
func TestE2ESlowConsumer(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		const v = mqtt.V311 // of the stuck client; the readers speak both
		srv := brokertest.StartWith(t, engine, broker.Config{MaxQueuedMessages: slowMaxQueued},
			engines.Options{MaxOutboundBytes: slowMaxOutbound})
		var fast []*brokertest.RawClient
		for _, fv := range versions {
			c := client(t, srv, fv, "fast-"+fv.String())
			subscribe(t, c, 0, "flood/#")
			fast = append(fast, c)
		}
		stuck := brokertest.Dial(t, srv.Addr, v)
		stuck.SetReadBuffer(4 << 10)
		if ack := stuck.Connect("stuck", true, nil); ack.Reason != mqtt.Success {
			t.Fatalf("CONNACK %s", ack.Reason)
		}
		subscribe(t, stuck, 0, "flood/#") // and never read again
		pub := client(t, srv, mqtt.V5, "flooder")

		published, extra := 0, -1
		for extra != 0 {
			pub.Send(floodBatchPacket(mqtt.V5, published))
			pub.Sync() // the batch is routed
			for _, c := range fast {
				expectFlood(t, c, published)
			}
			published += floodBatch
			switch {
			case extra > 0:
				extra--
			case srv.Broker.Stats().DroppedQueueFull > 0:
				extra = 20 // the bound bit: flood on a little, the others must not notice
			case published*floodSize > floodCap:
				t.Fatalf("published %d messages to a subscriber that reads nothing and nothing was dropped; stats %+v",
					published, srv.Broker.Stats())
			}
		}
		for _, c := range fast {
			c.Sync()
		}

		st := srv.Broker.Stats()
		toStuck := st.Delivered - int64(len(fast)*published) // written to the stuck client's connection
		queued := int64(published) - toStuck - st.DroppedQueueFull
		t.Logf("%d published: %d written to the stuck subscriber, %d queued, %d dropped, %d diverted",
			published, toStuck, queued, st.DroppedQueueFull, st.SlowConsumer)
		switch {
		case st.SlowConsumer == 0:
			t.Errorf("no delivery counted as diverted by a slow consumer")
		case queued < 0 || queued > slowMaxQueued:
			t.Errorf("%d messages held for the stuck subscriber, bound %d", queued, slowMaxQueued)
		case toStuck*floodSize > 16<<20:
			t.Errorf("%d KiB written to a connection that reads nothing: outbound not bounded", toStuck*floodSize>>10)
		}
		srv.WaitLog("WARN: Client stuck: queue full", logWait)

		// Nothing more is offered to the stuck client: the counters of what
		// was diverted and dropped must stand still (housekeeping retries the
		// stuck queue meanwhile; retries are not new diversions).
		time.Sleep(300 * time.Millisecond) // time passing is what is tested
		if later := srv.Broker.Stats(); later.SlowConsumer != st.SlowConsumer || later.DroppedQueueFull != st.DroppedQueueFull {
			t.Errorf("retries were counted as diverted deliveries: with no new messages, SlowConsumer went from %d to %d and DroppedQueueFull from %d to %d in 300 ms",
				st.SlowConsumer, later.SlowConsumer, st.DroppedQueueFull, later.DroppedQueueFull)
		}

		// The stuck client goes away: its session and queue with it.
		stuck.Close()
		srv.WaitStats("stuck session gone", logWait, func(s broker.Stats) bool { return s.Sessions == len(fast)+1 })
	})
}

// TestE2EOfflineQueueBounded: a session whose client is away queues at most
// Config.MaxQueuedMessages; more are dropped, counted and warned about, and
// the client gets the queued ones, in order, when it comes back.
func TestE2EOfflineQueueBounded(t *testing.T) {
	const bound, sent = 5, 8
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{MaxQueuedMessages: bound, Grace: 30 * time.Second})
		pub := client(t, srv, v, "pub")
		sub, _ := persistent(t, srv, v, "away", nil)
		subscribe(t, sub, 1, "away/#")
		lose(t, srv, sub, "away")
		for i := range sent {
			pub.PublishFlow("away/t", strconv.Itoa(i), 1, false, uint16(i+1), nil)
		}
		srv.WaitLog("WARN: Client away: queue full", logWait)
		if st := srv.Broker.Stats(); st.DroppedQueueFull != sent-bound {
			t.Fatalf("%d dropped at the queue bound, want %d", st.DroppedQueueFull, sent-bound)
		}

		sub, _ = persistent(t, srv, v, "away", nil)
		last := -1
		for range bound {
			p := sub.ExpectPublish()
			n, err := strconv.Atoi(string(p.Payload))
			if err != nil || n <= last {
				t.Fatalf("queued message %q after %d: out of order", p.Payload, last)
			}
			last = n
			sub.Ack(p)
		}
		sub.Sync()
		srv.WaitLog(fmt.Sprintf("Client away resumed its session with %d queued messages", bound), logWait)
	})
}

// TestE2EOfflineQueueBytesBounded: Config.MaxQueuedBytes bounds the bytes
// queued for a session whose client is away; what does not fit is dropped
// and counted.
func TestE2EOfflineQueueBytesBounded(t *testing.T) {
	const sent, size, bound = 8, 300, 1000
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{MaxQueuedBytes: bound, Grace: 30 * time.Second})
		pub := client(t, srv, mqtt.V5, "pub")
		sub, _ := persistent(t, srv, mqtt.V5, "away", nil)
		subscribe(t, sub, 1, "away/#")
		lose(t, srv, sub, "away")
		for i := range sent {
			pub.PublishFlow("away/t", fmt.Sprintf("%d%s", i, bytes.Repeat([]byte("."), size)), 1, false, uint16(i+1), nil)
		}
		sub, _ = persistent(t, srv, mqtt.V5, "away", nil)
		got := sub.Drain()
		dropped := srv.Broker.Stats().DroppedQueueFull
		if len(got) == 0 || len(got)*size > bound || int(dropped) != sent-len(got) {
			t.Fatalf("%d messages of %d bytes queued under a %d-byte bound, %d dropped; want 1..%d queued, the rest dropped",
				len(got), size, bound, dropped, bound/size)
		}
	})
}

// TestE2EMaxPacketSizeInbound: the broker tells MQTT 5 clients its maximum
// packet size in CONNACK, and a PUBLISH just within it is routed.
func TestE2EMaxPacketSizeInbound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{MaxPacketSize: badMaxPacket})
		sub, ack := connect(t, srv, mqtt.V5, "big", true, nil)
		if !ack.Props.Has(mqtt.PropMaximumPacketSize) || ack.Props.MaximumPacketSize != badMaxPacket {
			t.Fatalf("CONNACK maximum packet size present=%v value %d, want %d",
				ack.Props.Has(mqtt.PropMaximumPacketSize), ack.Props.MaximumPacketSize, badMaxPacket)
		}
		subscribe(t, sub, 1, "big/t")
		pub := client(t, srv, mqtt.V311, "pub")
		payload := string(bytes.Repeat([]byte("x"), 1000))
		p := &mqtt.Publish{Topic: []byte("big/t"), QoS: 1, PacketID: 1, Payload: []byte(payload)}
		if size := mqtt.PublishSize(mqtt.V5, p); size > badMaxPacket {
			t.Fatalf("test packet of %d bytes over the limit", size)
		}
		publishRouted(t, pub, "big/t", payload)
		expectMessage(t, sub, "big/t", payload, 1)
	})
}

// TestE2EMaxSubscriptions: a session holds at most Config.MaxSubscriptions
// filters; a SUBSCRIBE to a new one beyond it gets 0x97 quota exceeded
// (0x80 in 3.1.1) for that filter alone, while renewing a held filter and
// subscribing again after an UNSUBSCRIBE work.
func TestE2EMaxSubscriptions(t *testing.T) {
	forEachEngineVersion(t, func(t *testing.T, engine string, v mqtt.Version) {
		srv := start(t, engine, broker.Config{MaxSubscriptions: 2})
		c := client(t, srv, v, "collector")
		refused := byVersion(v, mqtt.QuotaExceeded, mqtt.V311SubackFailure)
		got := c.Subscribe(1, nil, "ms/a", "ms/b", "ms/c", "ms/a")
		if want := []mqtt.ReasonCode{1, 1, refused, 1}; !slices.Equal(got, want) {
			t.Fatalf("SUBACK %v, want %v", got, want)
		}
		srv.WaitLog("Client collector: subscription to ms/c refused: 2 subscriptions already", logWait)
		c.Unsubscribe("ms/b")
		subscribe(t, c, 1, "ms/c")
		pub := client(t, srv, v, "pub")
		publishRouted(t, pub, "ms/c", "counted")
		expectMessage(t, c, "ms/c", "counted", 1)
	})
}

// TestE2EMaxRetained: the broker holds at most Config.MaxRetained retained
// messages; a retained message to a new topic beyond it is routed but not
// kept (counted, WARN line), while replacing and deleting held ones work.
func TestE2EMaxRetained(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{MaxRetained: 2})
		live := client(t, srv, mqtt.V5, "live")
		subscribe(t, live, 1, "mr/#")
		pub := client(t, srv, mqtt.V5, "pub")
		for _, topic := range []string{"mr/a", "mr/b", "mr/c"} {
			pub.PublishFlow(topic, "first "+topic, 1, true, 1, nil)
			expectMessage(t, live, topic, "first "+topic, 1) // routed, kept or not
		}
		srv.WaitLog("Retained message to mr/c not kept: 2 retained messages held", logWait)
		srv.WaitStats("retained message not kept", logWait, func(s broker.Stats) bool { return s.DroppedRetained == 1 && s.Retained == 2 })
		pub.PublishFlow("mr/a", "second mr/a", 1, true, 1, nil) // replacing works at the bound
		expectMessage(t, live, "mr/a", "second mr/a", 1)

		late := client(t, srv, mqtt.V5, "late")
		subscribe(t, late, 1, "mr/#")
		var got []string
		for range 2 {
			p := late.ExpectPublish()
			got = append(got, string(p.Topic)+"="+string(p.Payload))
			late.Ack(p)
		}
		slices.Sort(got)
		if want := []string{"mr/a=second mr/a", "mr/b=first mr/b"}; !slices.Equal(got, want) {
			t.Fatalf("retained messages %v, want %v", got, want)
		}
		late.ExpectNothing(100 * time.Millisecond)
	})
}

// TestE2EQueueBudget: Config.MaxQueuedTotalBytes bounds the memory held by
// all session queues together: with two clients away, deliveries beyond the
// budget are dropped (counted, WARN line) though each session is far from
// its own bound; draining the queues gives the budget back, to the byte.
func TestE2EQueueBudget(t *testing.T) {
	const budget, payload = 4000, 200
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{MaxQueuedTotalBytes: budget, Grace: 30 * time.Second})
		pub := client(t, srv, mqtt.V5, "pub")
		away := []string{"away-1", "away-2"}
		for _, name := range away {
			c, _ := persistent(t, srv, mqtt.V5, name, nil)
			subscribe(t, c, 1, "budget/#")
			lose(t, srv, c, name)
		}
		body := string(bytes.Repeat([]byte("x"), payload))
		for i := range 20 {
			pub.PublishFlow("budget/t", body, 1, false, uint16(i+1), nil)
		}
		srv.WaitLog("broker-wide queue budget spent", logWait)
		st := srv.Broker.Stats()
		if st.QueuedBytes > budget || st.QueuedBytes == 0 || st.DroppedQueueFull == 0 {
			t.Fatalf("queued %d bytes with a budget of %d, %d dropped: want within the budget, some dropped", st.QueuedBytes, budget, st.DroppedQueueFull)
		}
		kept := 40 - int(st.DroppedQueueFull)
		for _, name := range away {
			c, present := persistent(t, srv, mqtt.V5, name, nil)
			if !present {
				t.Fatalf("%s: session not present", name)
			}
			kept -= len(c.Drain()) // Drain acknowledges them
		}
		if kept != 0 {
			t.Fatalf("%d queued deliveries never arrived", kept)
		}
		srv.WaitStats("the budget given back", logWait, func(s broker.Stats) bool { return s.QueuedBytes == 0 })
	})
}

// TestE2EQueueBudgetSharedMessages: a message queued for many sessions
// counts once against the budget (plus a slot per session), so 20 clients
// away can hold 10 messages of 1 KiB each within a budget far below
// 20 x 10 KiB; a clean start that ends those sessions gives it all back.
func TestE2EQueueBudgetSharedMessages(t *testing.T) {
	const sessions, messages, payload, budget = 20, 10, 1024, 40 << 10
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := start(t, engine, broker.Config{MaxQueuedTotalBytes: budget, Grace: 30 * time.Second})
		pub := client(t, srv, mqtt.V5, "pub")
		for i := range sessions {
			name := fmt.Sprintf("shared-%d", i)
			c, _ := persistent(t, srv, mqtt.V5, name, nil)
			subscribe(t, c, 1, "shared/#")
			lose(t, srv, c, name)
		}
		body := string(bytes.Repeat([]byte("x"), payload))
		for i := range messages {
			pub.PublishFlow("shared/t", body, 1, false, uint16(i+1), nil)
		}
		st := srv.Broker.Stats()
		if st.DroppedQueueFull != 0 || st.QueuedBytes < messages*payload || st.QueuedBytes > budget {
			t.Fatalf("%d dropped, %d bytes accounted: want none dropped and each message counted once", st.DroppedQueueFull, st.QueuedBytes)
		}
		for i := range sessions {
			connect(t, srv, mqtt.V5, fmt.Sprintf("shared-%d", i), true, nil) // clean start ends the session
		}
		srv.WaitStats("the budget given back", logWait, func(s broker.Stats) bool { return s.QueuedBytes == 0 })
	})
}
