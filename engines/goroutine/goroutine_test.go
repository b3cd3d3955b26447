package goroutine_test

import (
	"context"
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

// server is an engine on a loopback listener whose connections a test drives
// directly.
type server struct {
	addr  string
	conns chan serverConn
}

// serverConn is the server side of one connection.
type serverConn struct {
	engines.Conn
	closed chan error // receives OnClose's argument
}

// handler adapts a function to engines.Handler.
type handler struct {
	c      serverConn
	onData func(c engines.Conn, p []byte) error
}

func (h handler) OnData(p []byte) error {
	if h.onData == nil {
		return nil
	}
	return h.onData(h.c.Conn, p)
}

func (h handler) OnClose(err error) { h.c.closed <- err }

// echo writes back what it reads.
func echo(c engines.Conn, p []byte) error {
	if _, err := c.Write(p); err != nil {
		return err
	}
	return c.Flush()
}

// serve starts an engine made by newEngine whose connections call onData;
// cleanup shuts it down.
func serve(tb testing.TB, newEngine func(engines.Options) (engines.Engine, error), onData func(engines.Conn, []byte) error) *server {
	tb.Helper()
	eng, err := newEngine(engines.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &server{addr: ln.Addr().String(), conns: make(chan serverConn, 20000)}
	served := make(chan error, 1)
	go func() {
		served <- eng.Serve(ln, func(c engines.Conn) engines.Handler {
			sc := serverConn{Conn: c, closed: make(chan error, 1)}
			s.conns <- sc
			return handler{c: sc, onData: onData}
		})
	}()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := eng.Shutdown(ctx); err != nil {
			tb.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != engines.ErrServerClosed {
			tb.Errorf("Serve: %v", err)
		}
	})
	return s
}

// connect dials the server and returns both ends.
func (s *server) connect(tb testing.TB) (net.Conn, serverConn) {
	tb.Helper()
	client, err := net.DialTimeout("tcp", s.addr, 10*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { client.Close() })
	select {
	case c := <-s.conns:
		return client, c
	case <-time.After(10 * time.Second):
		tb.Fatal("engine did not open the connection")
		return nil, serverConn{}
	}
}

// readFull reads len(buf) bytes within a deadline.
func readFull(tb testing.TB, c net.Conn, buf []byte) {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil {
		tb.Fatal(err)
	}
}

// TestBurstIsOneWrite: a burst of 1,000 Writes and one Flush leaves in a
// single writev batch.
func TestBurstIsOneWrite(t *testing.T) {
	s := serve(t, goroutine.NewEngine, nil)
	client, c := s.connect(t)
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
	<-c.closed // the writer has finished: its count is final
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
			client, c := s.connect(t)
			assertNoAllocs(t, func() {
				c.Write(msg)
				c.Flush()
				readFull(t, client, buf)
			})
		})
		t.Run(engine.name+"/Echo", func(t *testing.T) {
			s := serve(t, engine.new, echo)
			client, _ := s.connect(t)
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
	servers := make([]serverConn, conns)
	for i := range clients {
		clients[i], servers[i] = s.connect(t)
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
	_, c := s.connect(t)
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
	select {
	case err := <-c.closed:
		if err != nil {
			t.Fatalf("OnClose(%v), want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no OnClose 10s after Close")
	}
	if waited := time.Since(began); waited < timeout*3/4 {
		t.Fatalf("OnClose %v after Close: the flush was not attempted for %v", waited, timeout)
	}
}
