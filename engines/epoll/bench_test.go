//go:build linux

package epoll_test

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/epoll"
)

// BenchmarkFanOut measures delivery through the engine alone. One op is one
// message delivered to every subscriber.
//
// from=goroutine is shaped like the other engines' benchmark of the same
// name, so benchstat can compare them: the benchmark's goroutine writes each
// message to every subscriber and flushes each one every 64 KiB of messages.
//
// from=loop is how the broker drives the engine: a publisher client streams
// the messages, and its OnData, on the publisher's loop, writes every
// message of the read batch to every subscriber and then flushes each one
// once. The publisher stays at most 1 MiB ahead of the slowest subscriber,
// so no queue reaches its bound.
//
// Subscribers read in this process, on the same cores, so the numbers are a
// floor. Loops: 1; run with -cpu 1 to put the whole process on one core.
func BenchmarkFanOut(b *testing.B) {
	for _, subs := range []int{100, 1000} {
		b.Run(fmt.Sprintf("engine=epoll/subs=%d/size=64/from=goroutine", subs), func(b *testing.B) {
			benchFanOut(b, subs, 64, false)
		})
		b.Run(fmt.Sprintf("engine=epoll/subs=%d/size=64/from=loop", subs), func(b *testing.B) {
			benchFanOut(b, subs, 64, true)
		})
	}
}

func benchFanOut(b *testing.B, subscribers, size int, fromLoop bool) {
	b.ReportAllocs()
	var conns []engines.Conn
	var drops atomic.Int64
	s := startServer(b, engines.Options{Loops: 1}, func(c engines.Conn) engines.Handler {
		return funcHandler{data: newPublisher(&conns, size, &drops)}
	})
	pub, _ := s.dial()
	total := int64(b.N * size)
	progress := make([]atomic.Int64, subscribers)
	drained := make(chan error, subscribers)
	for i := range subscribers {
		client, c := s.dial()
		conns = append(conns, c)
		go func() {
			client.SetReadDeadline(time.Now().Add(time.Minute))
			buf := make([]byte, 64<<10)
			var n int64
			for n < total {
				k, err := client.Read(buf[:min(int64(len(buf)), total-n)])
				if err != nil {
					drained <- fmt.Errorf("read %d of %d bytes: %w", n, total, err)
					return
				}
				n += int64(k)
				progress[i].Store(n)
			}
			drained <- nil
		}()
	}
	wakeups, writevs := epoll.WakeupWrites(s.eng), epoll.Writevs(s.eng)
	b.SetBytes(int64(size * subscribers))
	b.ResetTimer()
	if fromLoop {
		streamWindowed(b, pub, total, progress)
	} else {
		fanOutFromGoroutine(b, conns, size)
	}
	for range subscribers {
		if err := <-drained; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := drops.Load(); n > 0 {
		b.Fatalf("%d messages dropped on a full queue", n)
	}
	b.ReportMetric(float64(b.N*subscribers)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(epoll.WakeupWrites(s.eng)-wakeups)/float64(b.N), "wakeups/op")
	b.ReportMetric(float64(epoll.Writevs(s.eng)-writevs)/float64(b.N*subscribers), "writevs/msg")
}

// newPublisher returns an OnData that writes each size-byte message it reads
// to every conn of *subs, then flushes each once: one flush per read batch.
// It keeps a partial message for the next call, as the core does.
func newPublisher(subs *[]engines.Conn, size int, drops *atomic.Int64) func([]byte) error {
	partial := make([]byte, 0, size)
	return func(p []byte) error {
		for len(p) > 0 {
			var msg []byte
			if len(partial) > 0 || len(p) < size {
				k := min(size-len(partial), len(p))
				partial, p = append(partial, p[:k]...), p[k:]
				if len(partial) < size {
					break
				}
				msg, partial = partial, partial[:0]
			} else {
				msg, p = p[:size], p[size:]
			}
			for _, c := range *subs {
				if _, err := c.Write(msg); errors.Is(err, engines.ErrOutboundFull) {
					drops.Add(1)
				}
			}
		}
		for _, c := range *subs {
			c.Flush()
		}
		return nil
	}
}

// streamWindowed writes total bytes of messages to pub in 64 KiB writes,
// staying at most 1 MiB ahead of the slowest subscriber.
func streamWindowed(b *testing.B, pub io.Writer, total int64, progress []atomic.Int64) {
	const window = 1 << 20
	chunk := make([]byte, 64<<10)
	for sent := int64(0); sent < total; {
		for slowest(progress) < sent-window {
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

// fanOutFromGoroutine writes b.N messages to every conn, flushing each
// every 64 KiB of messages, from the benchmark's goroutine.
func fanOutFromGoroutine(b *testing.B, conns []engines.Conn, size int) {
	msg := make([]byte, size)
	batch := max(1, (64<<10)/size)
	for i := range b.N {
		for _, c := range conns {
			writeWhenRoom(b, c, msg)
		}
		if (i+1)%batch == 0 || i == b.N-1 {
			for _, c := range conns {
				c.Flush()
			}
		}
	}
}

// writeWhenRoom writes p, flushing and yielding while the queue is full.
func writeWhenRoom(b *testing.B, c engines.Conn, p []byte) {
	for {
		_, err := c.Write(p)
		if !errors.Is(err, engines.ErrOutboundFull) {
			if err != nil {
				b.Fatal(err)
			}
			return
		}
		c.Flush()
		runtime.Gosched()
	}
}
