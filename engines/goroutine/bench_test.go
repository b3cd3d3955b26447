package goroutine_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/goroutine"
)

// BenchmarkFanOut measures delivery through the engine alone: one op is one
// message written to every subscriber; every 64 KiB of messages (one read
// batch of a publisher) each subscriber is flushed once, as the broker does.
// Clients in the same process read and discard.
func BenchmarkFanOut(b *testing.B) {
	for _, subs := range []int{100, 1000} {
		b.Run(fmt.Sprintf("subs=%d/size=64", subs), func(b *testing.B) {
			benchFanOut(b, subs, 64)
		})
	}
}

func benchFanOut(b *testing.B, subscribers, size int) {
	s := serve(b, goroutine.NewEngine, nil)
	conns := make([]engines.Conn, subscribers)
	drained := make(chan error, subscribers)
	total := int64(b.N * size)
	for i := range conns {
		client, c := s.connect(b)
		conns[i] = c.Conn
		go func() {
			client.SetReadDeadline(time.Now().Add(time.Minute))
			n, err := io.CopyN(io.Discard, client, total)
			if err == nil && n != total {
				err = fmt.Errorf("read %d of %d bytes", n, total)
			}
			drained <- err
		}()
	}
	msg := make([]byte, size)
	batch := max(1, (64<<10)/size)
	b.SetBytes(int64(size * subscribers))
	b.ResetTimer()
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
	for range conns {
		if err := <-drained; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*subscribers)/b.Elapsed().Seconds(), "msgs/s")
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

// idleConns is the number of connections of BenchmarkIdleConns: each costs two
// file descriptors in this process.
const idleConns = 5000

// BenchmarkIdleConns measures the memory of idle connections: idleConns
// clients connect, exchange one small message each (so every reader goroutine
// has run OnData) and go quiet. It reports Go heap+stack bytes and RSS per
// connection; both include the client side, which lives in the same process,
// so "bare" runs the same with a listener that only accepts and holds the
// connections, for comparison. Run it alone and once:
//
//	go test -run='^$' -bench=IdleConns -benchtime=1x ./engines/goroutine/
func BenchmarkIdleConns(b *testing.B) {
	b.Run("engine=goroutine", func(b *testing.B) {
		s := serve(b, goroutine.NewEngine, echo)
		measureIdle(b, func() net.Conn { client, _ := s.connect(b); return client })
	})
	b.Run("engine=bare", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		measureIdle(b, func() net.Conn {
			client, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			server, err := ln.Accept()
			if err != nil {
				b.Fatal(err)
			}
			held = append(held, server)
			go func() { // echo once, like the engine, then hold
				buf := make([]byte, 16)
				n, _ := server.Read(buf)
				server.Write(buf[:n])
			}()
			b.Cleanup(func() { client.Close() })
			return client
		})
	})
}

// measureIdle connects idleConns clients with connect, has each do one round
// trip, and reports the memory growth per connection.
func measureIdle(b *testing.B, connect func() net.Conn) {
	for range b.N {
		heap0, rss0 := memoryInUse()
		clients := make([]net.Conn, idleConns)
		for i := range clients {
			clients[i] = connect()
		}
		buf := make([]byte, 5)
		for _, c := range clients {
			c.Write([]byte("hello"))
			readFull(b, c, buf)
		}
		heap1, rss1 := memoryInUse()
		b.ReportMetric(float64(heap1-heap0)/idleConns, "heap+stack-B/conn")
		if rss0 > 0 {
			b.ReportMetric(float64(rss1-rss0)/idleConns, "rss-B/conn")
		}
		for _, c := range clients {
			c.Close()
		}
	}
}

// memoryInUse collects garbage (twice, so idle goroutine stacks shrink) and
// returns the Go heap and stacks in use, and the RSS (0 where unknown).
func memoryInUse() (heapAndStacks, rss int64) {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapAndStacks = int64(ms.HeapInuse + ms.StackInuse)
	if statm, err := os.ReadFile("/proc/self/statm"); err == nil {
		if fields := strings.Fields(string(statm)); len(fields) > 1 {
			pages, _ := strconv.ParseInt(fields[1], 10, 64)
			rss = pages * int64(os.Getpagesize())
		}
	}
	return heapAndStacks, rss
}
