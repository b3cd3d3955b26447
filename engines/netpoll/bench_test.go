//go:build linux

package netpoll

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
)

// TestWriteFlushAllocs: steady-state fan-out allocates nothing per message:
// Write and Flush of a 64-byte message, the flusher goroutine that starts for
// it, netpoll's write, and the peer reading it (AllocsPerRun counts every
// goroutine). Each run waits for the peer, so each run starts a flusher.
func TestWriteFlushAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	s := serve(t, engines.Options{}, DefaultWriteTimeout, nil)
	client, h := s.connect(t, 0)
	client.SetReadDeadline(time.Now().Add(timeout))
	msg, got := make([]byte, 64), make([]byte, 64)
	send := func() {
		if _, err := h.Write(msg); err != nil {
			t.Fatal(err)
		}
		if err := h.Flush(); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(client, got); err != nil {
			t.Fatal(err)
		}
	}
	for range 1000 { // warm the pools and the runtime's free goroutines
		send()
	}
	if allocs := testing.AllocsPerRun(5000, send); allocs != 0 {
		t.Fatalf("%v allocations per Write+Flush, want 0", allocs)
	}
}

// BenchmarkFanOut measures delivery through the engine alone, as the core
// drives it: one op is one message written to every subscriber, and every
// 64 KiB of messages (one publisher read batch) each subscriber is flushed
// once. The subscribers' clients read in this process, on the same cores.
func BenchmarkFanOut(b *testing.B) {
	for _, subs := range []int{100, 1000} {
		b.Run(fmt.Sprintf("engine=netpoll/subs=%d/size=64", subs), func(b *testing.B) {
			benchFanOut(b, subs, 64)
		})
	}
}

func benchFanOut(b *testing.B, subscribers, size int) {
	s := serve(b, engines.Options{}, DefaultWriteTimeout, nil)
	subs := make([]engines.Conn, subscribers)
	done := make(chan error, subscribers)
	want := int64(b.N) * int64(size)
	for i := range subs {
		client, h := s.connect(b, 0)
		subs[i] = h
		go func() {
			client.SetReadDeadline(time.Now().Add(5 * time.Minute))
			n, err := io.CopyN(io.Discard, client, want)
			done <- errors.Join(err, errIf(n != want, "read %d of %d bytes", n, want))
		}()
	}
	msg := make([]byte, size)
	perBatch := max(1, (64<<10)/size)
	b.SetBytes(int64(size * subscribers))
	b.ResetTimer()
	for i := range b.N {
		for _, c := range subs {
			for {
				_, err := c.Write(msg)
				if err == nil {
					break
				}
				if !errors.Is(err, engines.ErrOutboundFull) {
					b.Fatal(err)
				}
				c.Flush()
				runtime.Gosched()
			}
		}
		if (i+1)%perBatch == 0 || i == b.N-1 {
			for _, c := range subs {
				c.Flush()
			}
		}
	}
	for range subs {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(subscribers)/b.Elapsed().Seconds(), "msgs/s")
}

func errIf(cond bool, format string, args ...any) error {
	if !cond {
		return nil
	}
	return fmt.Errorf(format, args...)
}

// idleConns is the number of connections of BenchmarkIdleConns; each costs
// two descriptors in this process.
const idleConns = 4000

// BenchmarkIdleConns reports the memory of idle connections: clients connect,
// exchange one byte each (so netpoll has run OnRequest, released its first
// read buffer and written once), then stay quiet. Go heap and stacks and RSS
// (socket buffers excluded) are per connection and include the client side in
// this process; engine=bare holds plain accepted sockets instead of an engine,
// so the difference is the engine's. Run it alone, once:
//
//	go test -run='^$' -bench=IdleConns -benchtime=1x ./engines/netpoll/
func BenchmarkIdleConns(b *testing.B) {
	b.Run("engine=netpoll", func(b *testing.B) {
		s := serve(b, engines.Options{}, DefaultWriteTimeout, func(h *handler, p []byte) error {
			_, err := h.Write(p)
			return errors.Join(err, h.Flush())
		})
		measureIdle(b, func() net.Conn { c, _ := s.connect(b, 0); return c })
	})
	b.Run("engine=bare", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		held := make(chan net.Conn, idleConns)
		go func() { // echo one byte per connection, then only hold it
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				var buf [1]byte
				c.Read(buf[:])
				c.Write(buf[:])
				held <- c
			}
		}()
		b.Cleanup(func() {
			for range len(held) {
				(<-held).Close()
			}
		})
		measureIdle(b, func() net.Conn {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { c.Close() })
			return c
		})
	})
}

// measureIdle opens idleConns connections with connect, exchanges one byte on
// each and reports the memory they added.
func measureIdle(b *testing.B, connect func() net.Conn) {
	before := memoryNow()
	for range idleConns {
		c := connect()
		c.SetDeadline(time.Now().Add(timeout))
		var buf [1]byte
		if _, err := c.Write([]byte{'x'}); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf[:]); err != nil {
			b.Fatal(err)
		}
	}
	after := memoryNow()
	b.ReportMetric(float64(after.goBytes-before.goBytes)/idleConns, "go-B/conn")
	b.ReportMetric(float64(after.rss-before.rss)/idleConns, "rss-B/conn")
}

type memory struct{ goBytes, rss int64 }

// memoryNow collects garbage and returns the Go heap and stack bytes in use
// and the process's resident set size.
func memoryNow() memory {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{goBytes: int64(ms.HeapInuse + ms.StackInuse), rss: residentBytes()}
}
