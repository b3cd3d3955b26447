//go:build linux

package netpoll

import (
	"io"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/enginetest"
)

// TestWriteFlushAllocs: steady-state fan-out allocates nothing per message:
// Write and Flush of a 64-byte message, the flusher goroutine that starts for
// it, netpoll's write, and the peer reading it (AllocsPerRun counts every
// goroutine). Each run waits for the peer, so each run starts a flusher.
func TestWriteFlushAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	s := serve(t, engines.Options{}, DefaultWriteTimeout, enginetest.Handlers{})
	client, h := s.Dial(t)
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

// BenchmarkFanOut measures fan-out through the engine alone; see
// enginetest.BenchmarkFanOut.
func BenchmarkFanOut(b *testing.B) {
	enginetest.BenchmarkFanOut(b, enginetest.FanOut{Engine: Name, New: NewEngine})
}

// BenchmarkIdleConns measures the memory of idle connections, in a child
// process; see enginetest.BenchmarkIdleConns. Run it alone and once:
//
//	go test -run='^$' -bench=IdleConns -benchtime=1x ./engines/netpoll/
func BenchmarkIdleConns(b *testing.B) { enginetest.BenchmarkIdleConns(b, Name) }

// TestIdleConnsServer is the server process of BenchmarkIdleConns; run alone
// it skips.
func TestIdleConnsServer(t *testing.T) { enginetest.IdleConnsServer(t, NewEngine) }
