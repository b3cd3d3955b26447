package goroutine_test

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/enginetest"
	"github.com/pubsubx/pubsubx/engines/goroutine"
)

func TestConformance(t *testing.T) { enginetest.Run(t, goroutine.NewEngine) }

// TestConformancePortableReader runs the suite with the reader that platforms
// without raw reads use.
func TestConformancePortableReader(t *testing.T) { enginetest.Run(t, goroutine.NewPortableEngine) }

// serve starts an engine made by newEngine whose connections call onData
// (nil: nothing); the test's end shuts it down.
func serve(tb testing.TB, newEngine func(engines.Options) (engines.Engine, error), onData func(*enginetest.Peer, []byte) error) *enginetest.Server {
	tb.Helper()
	return enginetest.Serve(tb, newEngine, engines.Options{}, enginetest.Handlers{Data: onData})
}

// readFull reads len(buf) bytes from c within enginetest.Timeout, without
// allocating.
func readFull(tb testing.TB, c net.Conn, buf []byte) {
	tb.Helper()
	c.SetReadDeadline(time.Now().Add(enginetest.Timeout))
	if _, err := io.ReadFull(c, buf); err != nil {
		tb.Fatal(err)
	}
}

// TestBurstIsOneWrite: a burst of 1,000 Writes and one Flush leaves in a
// single writev batch.
func TestBurstIsOneWrite(t *testing.T) {
	s := serve(t, goroutine.NewEngine, nil)
	client, c := s.Dial(t)
	const burst, size = 1000, 64
	msg := make([]byte, size)
	syscallsBefore := writeSyscalls()
	for range burst {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	readFull(t, client, make([]byte, burst*size))
	syscalls := writeSyscalls() - syscallsBefore
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c.WaitClosed(t) // the writer has finished: its count is final
	if n := goroutine.WriteCalls(c.Conn); n != 1 {
		t.Fatalf("%d Writes and a Flush made %d writev batches, want 1", burst, n)
	}
	if syscallsBefore >= 0 {
		t.Logf("%d Writes + Flush: 1 writev batch; write syscalls in the whole process meanwhile: %d", burst, syscalls)
		if syscalls > burst/20 {
			t.Fatalf("%d write syscalls for a burst of %d messages", syscalls, burst)
		}
	}
}

// writeSyscalls returns the process's count of write-family system calls
// (Linux /proc/self/io syscw), or -1 where it is not available. Other
// goroutines' writes (e.g. netpoll wake-ups) count too, so it is an upper
// bound for the engine's.
func writeSyscalls() int {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// TestSteadyStateDoesNotAllocate: once pools and caches are warm, neither
// Write+Flush to a connection nor a read (OnData echoing) allocates: chunks
// and read buffers are recycled, the writer goroutine is started from a
// prebuilt func value, writev reuses its iovec array.
func TestSteadyStateDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	msg, buf := make([]byte, 64), make([]byte, 64)
	for _, engine := range []struct {
		name string
		new  func(engines.Options) (engines.Engine, error)
	}{{"raw", goroutine.NewEngine}, {"portable", goroutine.NewPortableEngine}} {
		t.Run(engine.name+"/WriteFlush", func(t *testing.T) {
			s := serve(t, engine.new, nil)
			client, c := s.Dial(t)
			assertNoAllocs(t, func() {
				c.Write(msg)
				c.Flush()
				readFull(t, client, buf)
			})
		})
		t.Run(engine.name+"/Echo", func(t *testing.T) {
			s := serve(t, engine.new, enginetest.Echo)
			client, _ := s.Dial(t)
			assertNoAllocs(t, func() {
				client.Write(msg)
				readFull(t, client, buf)
			})
		})
	}
}

// assertNoAllocs warms f up, then fails t if f allocates: AllocsPerRun must
// say 0, and an exact count over many runs must stay under one allocation per
// 100 runs. What may allocate now and then, per batch and never per message:
// writev's cached iovec array growing to a larger batch than seen before, and
// the runtime making a goroutine when its free list is empty as a writer
// starts.
func assertNoAllocs(t *testing.T, f func()) {
	t.Helper()
	for range 200 {
		f()
	}
	if allocs := testing.AllocsPerRun(2000, f); allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
	const runs = 10000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	n := after.Mallocs - before.Mallocs
	t.Logf("%d allocations in %d runs", n, runs)
	if n > runs/100 {
		t.Fatalf("%d allocations in %d runs, want under %d", n, runs, runs/100)
	}
}

// TestWritersExitWhenDrained: a writer goroutine lives only while its
// connection has flushed bytes to send; idle connections keep none.
func TestWritersExitWhenDrained(t *testing.T) {
	s := serve(t, goroutine.NewEngine, nil)
	const conns = 200
	clients := make([]net.Conn, conns)
	servers := make([]*enginetest.Peer, conns)
	for i := range clients {
		clients[i], servers[i] = s.Dial(t)
	}
	idle := runtime.NumGoroutine() // readers included
	msg := make([]byte, 100)
	for _, c := range servers {
		c.Write(msg)
		c.Flush()
	}
	for _, client := range clients {
		readFull(t, client, msg)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > idle {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after the writes drained, %d before", runtime.NumGoroutine(), idle)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCloseGivesUpOnStuckPeer: Close of a connection whose peer does not read
// keeps flushing only until the close flush timeout, then closes; OnClose(nil)
// follows.
func TestCloseGivesUpOnStuckPeer(t *testing.T) {
	const timeout = 200 * time.Millisecond
	s := serve(t, goroutine.NewEngineWithCloseFlushTimeout(timeout), nil)
	_, c := s.Dial(t)
	msg := make([]byte, 16<<10)
	for { // fill the queue: more than the socket buffers take
		if _, err := c.Write(msg); errors.Is(err, engines.ErrOutboundFull) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		c.Flush()
	}
	began := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitClosed(t); err != nil {
		t.Fatalf("OnClose(%v), want nil", err)
	}
	if waited := time.Since(began); waited < timeout*3/4 {
		t.Fatalf("OnClose %v after Close: the flush was not attempted for %v", waited, timeout)
	}
}
