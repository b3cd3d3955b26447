package enginetest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
)

// FanOut says what BenchmarkFanOut measures. Zero fields take the defaults.
type FanOut struct {
	// Engine names the engine in the sub-benchmarks' names (engine=Engine),
	// so that `benchstat -col /engine` compares engines.
	Engine string
	// New builds the engine with Options.
	New     func(engines.Options) (engines.Engine, error)
	Options engines.Options
	// Subscribers lists the subscriber counts to run; default 100 and 1000.
	Subscribers []int
	// Sizes lists the message sizes in bytes; default 64.
	Sizes []int
	// Counters are engine counters to report besides msgs/s.
	Counters []Counter
}

// Counter is an engine counter that BenchmarkFanOut reports: how much Read
// grew during the timed part, per op (one message to every subscriber) or,
// with PerDelivery, per delivered message, under the metric name Unit
// ("writevs/msg", say). Read must be safe while the engine runs.
type Counter struct {
	Unit        string
	Read        func(engines.Engine) uint64
	PerDelivery bool
}

// fanOutWindow is how far the publisher client of from=ondata may be ahead of
// the slowest subscriber: far below the default MaxOutboundBytes, so no queue
// reaches its bound.
const fanOutWindow = 1 << 20

// fanOutBatch is the bytes of messages between two flushes of from=goroutine:
// the size of one read batch of a publisher.
const fanOutBatch = 64 << 10

// BenchmarkFanOut measures fan-out through an engine alone, without MQTT:
// one message written to many subscriber connections. It runs one
// sub-benchmark engine=E/subs=N/size=S/from=F per subscriber count N,
// message size S and driver F:
//
//   - from=ondata is how the broker drives an engine: a publisher client
//     streams messages, and its connection's OnData, on the engine's
//     goroutine, writes every message of the read batch to every subscriber
//     and then flushes each subscriber once. The publisher stays at most
//     1 MiB ahead of the slowest subscriber, so no queue reaches its bound;
//     a failed Write fails the benchmark.
//   - from=goroutine is a publisher outside the engine's callbacks: the
//     benchmark's goroutine writes each message to every subscriber and
//     flushes each one every 64 KiB of messages, flushing and yielding while
//     a queue is full.
//
// One op is one message delivered to every subscriber. It reports msgs/s
// (deliveries per second), B/op and allocs/op, and cfg.Counters. The
// subscribers' clients read in this process, on the same cores, so the
// numbers are a floor; run it with -cpu 1 to put the whole process on one
// core. A stalled engine fails the benchmark after five minutes.
//
// An engine's benchmark is a few lines:
//
//	func BenchmarkFanOut(b *testing.B) {
//		enginetest.BenchmarkFanOut(b, enginetest.FanOut{Engine: epoll.Name, New: epoll.NewEngine})
//	}
func BenchmarkFanOut(b *testing.B, cfg FanOut) {
	subscribers, sizes := cfg.Subscribers, cfg.Sizes
	if len(subscribers) == 0 {
		subscribers = []int{100, 1000}
	}
	if len(sizes) == 0 {
		sizes = []int{64}
	}
	for _, subs := range subscribers {
		for _, size := range sizes {
			for _, fromOnData := range []bool{true, false} {
				from := "goroutine"
				if fromOnData {
					from = "ondata"
				}
				name := fmt.Sprintf("engine=%s/subs=%d/size=%d/from=%s", cfg.Engine, subs, size, from)
				b.Run(name, func(b *testing.B) { benchFanOut(b, cfg, subs, size, fromOnData) })
			}
		}
	}
}

func benchFanOut(b *testing.B, cfg FanOut, subscribers, size int, fromOnData bool) {
	b.ReportAllocs()
	pub := &publisher{size: size, partial: make([]byte, 0, size)}
	s := Serve(b, cfg.New, cfg.Options, Handlers{Data: pub.onData})
	client, _ := s.Dial(b)
	conns := make([]engines.Conn, subscribers)
	total := int64(b.N) * int64(size)
	progress := make([]atomic.Int64, subscribers)
	drained := make(chan error, subscribers)
	for i := range conns {
		sub, p := s.Dial(b)
		conns[i] = p.Conn
		buf := make([]byte, 64<<10) // before the timer starts
		go func() { drained <- readCounting(sub, buf, total, &progress[i]) }()
	}
	pub.subs.Store(&conns)
	before := make([]uint64, len(cfg.Counters))
	for i, c := range cfg.Counters {
		before[i] = c.Read(s.Engine)
	}
	b.SetBytes(int64(size * subscribers))
	b.ResetTimer()
	if fromOnData {
		streamWindowed(b, client, total, progress)
	} else {
		fanOutFromGoroutine(b, conns, size)
	}
	for range subscribers {
		if err := <-drained; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := pub.failed.Load(); n > 0 {
		b.Fatalf("%d Writes failed in OnData, the last with %v", n, *pub.lastErr.Load())
	}
	b.ReportMetric(float64(b.N*subscribers)/b.Elapsed().Seconds(), "msgs/s")
	for i, c := range cfg.Counters {
		per := float64(b.N)
		if c.PerDelivery {
			per *= float64(subscribers)
		}
		b.ReportMetric(float64(c.Read(s.Engine)-before[i])/per, c.Unit)
	}
}

// publisher is the from=ondata publisher connection's OnData state. Calls
// never overlap, so partial needs no lock; subs is set once the subscribers
// are connected.
type publisher struct {
	subs    atomic.Pointer[[]engines.Conn]
	size    int
	partial []byte // the start of a message split between reads
	failed  atomic.Int64
	lastErr atomic.Pointer[error]
}

// onData cuts what the publisher sent into size-byte messages, keeping a
// partial one for the next call as the core does, writes each to every
// subscriber, then flushes each subscriber once.
func (pub *publisher) onData(_ *Peer, p []byte) error {
	subs := *pub.subs.Load()
	for len(p) > 0 {
		var msg []byte
		if len(pub.partial) > 0 || len(p) < pub.size {
			k := min(pub.size-len(pub.partial), len(p))
			pub.partial, p = append(pub.partial, p[:k]...), p[k:]
			if len(pub.partial) < pub.size {
				break
			}
			msg, pub.partial = pub.partial, pub.partial[:0]
		} else {
			msg, p = p[:pub.size], p[pub.size:]
		}
		for _, c := range subs {
			if _, err := c.Write(msg); err != nil {
				pub.fail(err)
			}
		}
	}
	for _, c := range subs {
		c.Flush()
	}
	return nil
}

// fail counts a failed Write. It is a function of its own so that err is
// moved to the heap only when a Write fails, not for every delivery.
func (pub *publisher) fail(err error) {
	pub.failed.Add(1)
	pub.lastErr.Store(&err)
}

// readCounting reads total bytes from c, in reads of up to len(buf),
// storing the count read so far in progress.
func readCounting(c net.Conn, buf []byte, total int64, progress *atomic.Int64) error {
	c.SetReadDeadline(time.Now().Add(5 * time.Minute))
	for n := int64(0); n < total; {
		k, err := c.Read(buf[:min(int64(len(buf)), total-n)])
		if err != nil {
			return fmt.Errorf("subscriber read %d of %d bytes: %w", n, total, err)
		}
		n += int64(k)
		progress.Store(n)
	}
	return nil
}

// streamWindowed writes total bytes of messages to pub in 64 KiB writes,
// staying at most fanOutWindow bytes ahead of the slowest subscriber.
func streamWindowed(b *testing.B, pub io.Writer, total int64, progress []atomic.Int64) {
	chunk := make([]byte, 64<<10)
	for sent := int64(0); sent < total; {
		for slowest(progress) < sent-fanOutWindow {
			time.Sleep(20 * time.Microsecond)
		}
		k := min(int64(len(chunk)), total-sent)
		if _, err := pub.Write(chunk[:k]); err != nil {
			b.Fatal(err)
		}
		sent += k
	}
}

func slowest(progress []atomic.Int64) int64 {
	m := progress[0].Load()
	for i := range progress {
		m = min(m, progress[i].Load())
	}
	return m
}

// fanOutFromGoroutine writes b.N messages to every conn, flushing each every
// fanOutBatch bytes of messages and after the last.
func fanOutFromGoroutine(b *testing.B, conns []engines.Conn, size int) {
	msg := make([]byte, size)
	batch := max(1, fanOutBatch/size)
	for i := range b.N {
		for _, c := range conns {
			writeOrYield(b, c, msg)
		}
		if (i+1)%batch == 0 || i == b.N-1 {
			for _, c := range conns {
				c.Flush()
			}
		}
	}
}

// writeOrYield writes p to c, flushing and yielding while its queue is full.
func writeOrYield(b *testing.B, c engines.Conn, p []byte) {
	for {
		_, err := c.Write(p)
		if err == nil {
			return
		}
		if !errors.Is(err, engines.ErrOutboundFull) {
			b.Fatal(err)
		}
		c.Flush()
		runtime.Gosched()
	}
}
