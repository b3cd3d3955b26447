package broker

import (
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/pubsubx/pubsubx/core/mqtt"
	"github.com/pubsubx/pubsubx/core/session"
	"github.com/pubsubx/pubsubx/engines"
)

// sinkConn is an engines.Conn that keeps only a byte count: it lets the
// tests below measure the core's own cost and allocations per message,
// without an engine's. (The engines are measured by BenchmarkFanout.)
type sinkConn struct {
	mu      sync.Mutex
	written int
	flushes int
	closed  bool
}

func (s *sinkConn) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, engines.ErrClosed
	}
	s.written += len(p)
	return len(p), nil
}

// bytesWritten returns the bytes written so far.
func (s *sinkConn) bytesWritten() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.written
}

func (s *sinkConn) Flush() error {
	s.mu.Lock()
	s.flushes++
	s.mu.Unlock()
	return nil
}

func (s *sinkConn) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

func (s *sinkConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// fanoutFixture is a broker with one publisher and n subscribers to "bench"
// of protocol v, all on sink connections.
type fanoutFixture struct {
	b     *Broker
	pub   engines.Handler
	sinks []*sinkConn
}

func newFanoutFixture(tb testing.TB, n int, v mqtt.Version) *fanoutFixture {
	return newFanoutFixtureWith(tb, n, v, mqtt.Properties{})
}

// newFanoutFixtureWith is newFanoutFixture with the SUBSCRIBEs' properties
// (a subscription identifier, say).
func newFanoutFixtureWith(tb testing.TB, n int, v mqtt.Version, subProps mqtt.Properties) *fanoutFixture {
	f := &fanoutFixture{b: New(Config{})}
	tb.Cleanup(func() { f.b.Close(tb.Context()) })
	connect := func(id string) (engines.Handler, *sinkConn) {
		sink := &sinkConn{}
		h := f.b.Open(sink)
		pkt := mqtt.AppendConnect(nil, &mqtt.Connect{Version: v, CleanStart: true, ClientID: []byte(id)})
		if err := h.OnData(pkt); err != nil {
			tb.Fatalf("CONNECT %s: %v", id, err)
		}
		return h, sink
	}
	for i := range n {
		h, sink := connect(fmt.Sprintf("sub-%d", i))
		sub := mqtt.AppendSubscribe(nil, v, &mqtt.Subscribe{PacketID: 1, Props: subProps, Filters: []mqtt.Subscription{{Filter: []byte("bench")}}})
		if err := h.OnData(sub); err != nil {
			tb.Fatalf("SUBSCRIBE: %v", err)
		}
		f.sinks = append(f.sinks, sink)
	}
	f.pub, _ = connect("publisher")
	return f
}

// publishBatch encodes count QoS 0 PUBLISH packets of size bytes to "bench".
func publishBatch(v mqtt.Version, count, size int) []byte {
	var batch []byte
	payload := make([]byte, size)
	for range count {
		batch = mqtt.AppendPublish(batch, v, &mqtt.Publish{Topic: []byte("bench"), Payload: payload})
	}
	return batch
}

// TestFanoutHotPathAllocs guards the fan-out hot path: decoding, matching
// (cached), encoding once per variant, copying into every subscriber and
// flushing allocate nothing per message once warm.
func TestFanoutHotPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector (sync.Pool drops items)")
	}
	for _, v := range []mqtt.Version{mqtt.V311, mqtt.V5} {
		t.Run(v.String(), func(t *testing.T) {
			f := newFanoutFixture(t, 100, v)
			batch := publishBatch(v, 50, 64)
			if err := f.pub.OnData(batch); err != nil { // warm up: caches, pools
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(200, func() {
				if err := f.pub.OnData(batch); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("fan-out of 50 messages to 100 subscribers: %.1f allocations per batch, want 0", allocs)
			}
			if got := f.b.Stats().Delivered; got < 100*50*200 {
				t.Errorf("delivered %d, want at least %d", got, 100*50*200)
			}
			if f.sinks[0].flushes > 2+202 { // CONNACK, SUBACK, then one per batch
				t.Errorf("subscriber flushed %d times for 202 batches: want one flush per batch", f.sinks[0].flushes)
			}
		})
	}
}

// BenchmarkFanoutCore measures the core's cost per delivery (no engine, no
// sockets): one publisher, N subscribers, batches of 64-byte messages.
func BenchmarkFanoutCore(b *testing.B) {
	for _, subs := range []int{100, 1000} {
		for _, v := range []mqtt.Version{mqtt.V311, mqtt.V5} {
			b.Run(fmt.Sprintf("subs=%d/v=%s", subs, v), func(b *testing.B) {
				f := newFanoutFixture(b, subs, v)
				const perBatch = 64
				batch := publishBatch(v, perBatch, 64)
				b.SetBytes(int64(len(batch) / perBatch * subs))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i += perBatch {
					f.pub.OnData(batch)
				}
				b.ReportMetric(float64(b.N*subs)/b.Elapsed().Seconds(), "deliveries/s")
			})
		}
	}
}

// TestFanoutSubscriptionIDAllocs: subscribers with a subscription
// identifier take each message of a run through the ordinary path (the
// identifier goes into each PUBLISH); that path allocates nothing either.
func TestFanoutSubscriptionIDAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector (sync.Pool drops items)")
	}
	f := newFanoutFixtureWith(t, 100, mqtt.V5, mqtt.Properties{SubscriptionIDs: []uint32{7}})
	batch := publishBatch(mqtt.V5, 50, 64)
	if err := f.pub.OnData(batch); err != nil { // warm up
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := f.pub.OnData(batch); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("fan-out of 50 messages to 100 subscribers with subscription identifiers: %.1f allocations per batch, want 0", allocs)
	}
	if got := f.b.Stats().Delivered; got < 100*50*100 {
		t.Errorf("delivered %d, want at least %d", got, 100*50*100)
	}
}

// TestQueuedRunSharesMessages: when a run of QoS 0 messages cannot be written
// to its subscribers (here: their connections refuse writes, as a full
// outbound queue would), each message is queued for all of them as one shared
// copy, never one copy per subscriber.
func TestQueuedRunSharesMessages(t *testing.T) {
	const subs, msgs = 20, 10
	f := newFanoutFixture(t, subs, mqtt.V5)
	for _, sink := range f.sinks {
		sink.Close()
	}
	if err := f.pub.OnData(publishBatch(mqtt.V5, msgs, 64)); err != nil {
		t.Fatal(err)
	}
	f.b.mu.Lock()
	defer f.b.mu.Unlock()
	var first []*session.Message
	for i := range subs {
		s := f.b.sessions[fmt.Sprintf("sub-%d", i)]
		if s == nil {
			t.Fatalf("session sub-%d is gone", i)
		}
		s.mu.Lock()
		var got []*session.Message
		for {
			d, ok := s.queue.Pop()
			if !ok {
				break
			}
			got = append(got, d.Msg)
		}
		s.mu.Unlock()
		if len(got) != msgs {
			t.Fatalf("sub-%d has %d messages queued, want %d", i, len(got), msgs)
		}
		if first == nil {
			first = got
			continue
		}
		for k := range got {
			if got[k] != first[k] {
				t.Fatalf("sub-%d's message %d is a copy of its own, want the one shared with sub-0", i, k)
			}
		}
	}
}
