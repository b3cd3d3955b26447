package enginetest

import (
	"cmp"
	"fmt"
	"hash/crc32"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
)

// dataScenarios move bytes: echo, reads, concurrent writes, flushes, fan-out.
func dataScenarios() []scenario {
	return []scenario{
		{"Echo", testEcho},
		{"OnDataSliceValidDuringCall", testOnDataSlice},
		{"ConcurrentWriters", testConcurrentWriters},
		{"FlushCoalescing", testFlushCoalescing},
		{"FanOut", testFanOut},
		{"ManyConns", testManyConns},
		{"RemoteAddr", testRemoteAddr},
	}
}

// testEcho: many round trips of varied sizes, then a 1 MiB stream in both
// directions at once, written in pieces so both sides see partial reads.
func testEcho(t *testing.T, newEngine factory) {
	h := start(t, newEngine, engines.Options{}, Echo)
	c, _ := h.Dial(t)

	rounds := sizes(1000, 200)
	for i := range rounds {
		msg := pattern(1+i*37%3000, uint64(i))
		MustWrite(t, c, msg)
		sameBytes(t, fmt.Sprintf("round trip %d", i), MustRead(t, c, len(msg)), msg)
	}

	stream := pattern(sizes(1<<20, 256<<10), 1)
	sent := make(chan error, 1)
	go func() { sent <- writeInPieces(c, stream, 2) }()
	got, err := ReadN(c, len(stream))
	if err != nil {
		t.Fatalf("echoed stream: %v", err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("client write: %v", err)
	}
	sameBytes(t, "echoed stream", got, stream)
}

// writeInPieces writes data to c in pseudo-random pieces of 1 B to 64 KiB.
func writeInPieces(c net.Conn, data []byte, seed uint64) error {
	c.SetWriteDeadline(time.Now().Add(Timeout))
	random := pattern(len(data)/64+2, seed)
	for i := 0; len(data) > 0; i++ {
		n := min(len(data), 1+int(random[i%len(random)])*int(random[(i+1)%len(random)]))
		if _, err := c.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// testOnDataSlice: OnData's slice must stay unchanged until OnData returns (the
// engine may not read into it meanwhile); the handler copies it, and the copies
// must add up to the stream the client sent.
func testOnDataSlice(t *testing.T, newEngine factory) {
	var received []byte // written only by OnData, read after OnClose
	h := start(t, newEngine, engines.Options{}, func(p *Peer, data []byte) error {
		sum := crc32.ChecksumIEEE(data)
		runtime.Gosched() // let a misbehaving engine overwrite data now
		received = append(received, data...)
		if crc32.ChecksumIEEE(received[len(received)-len(data):]) != sum {
			return fmt.Errorf("enginetest: OnData's slice changed during the call")
		}
		return nil
	})
	c, p := h.Dial(t)
	stream := pattern(sizes(4<<20, 512<<10), 3)
	if err := writeInPieces(c, stream, 4); err != nil {
		t.Fatalf("client write: %v", err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatalf("client CloseWrite: %v", err)
	}
	if err := p.WaitClosed(t); !isEOF(err) {
		t.Fatalf("OnClose(%v), want io.EOF", err)
	}
	sameBytes(t, "bytes seen by OnData", received, stream)
	t.Logf("%d bytes in %d OnData calls", len(stream), p.dataCalls.Load())
}

// testConcurrentWriters: 8 goroutines Write and Flush records to one
// connection at once; each record arrives whole, each goroutine's in order.
func testConcurrentWriters(t *testing.T, newEngine factory) {
	h := start(t, newEngine, engines.Options{}, nil)
	c, p := h.Dial(t)
	const writers = 8
	perWriter := sizes(2000, 300)

	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			var rec []byte
			for seq := range uint32(perWriter) {
				rec = AppendRecord(rec[:0], byte(w), seq, int(seq)%97)
				if _, err := p.Write(rec); err != nil {
					errs <- fmt.Errorf("writer %d, record %d: Write: %w", w, seq, err)
					return
				}
				if seq%5 == 0 {
					if err := p.Flush(); err != nil {
						errs <- fmt.Errorf("writer %d: Flush: %w", w, err)
						return
					}
				}
			}
			errs <- p.Flush()
		}()
	}
	if err := NewRecordReader(c).Expect(writers * perWriter); err != nil {
		t.Fatal(err)
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// testFlushCoalescing: a Flush with nothing queued is harmless; many Writes
// and one Flush deliver everything in order; the connection keeps working.
func testFlushCoalescing(t *testing.T, newEngine factory) {
	h := start(t, newEngine, engines.Options{}, nil)
	c, p := h.Dial(t)
	rr := NewRecordReader(c)
	for range 3 {
		if err := p.Flush(); err != nil {
			t.Fatalf("Flush with nothing queued: %v", err)
		}
	}
	var rec []byte
	const burst = 1000
	for seq := range uint32(burst) {
		rec = AppendRecord(rec[:0], 1, seq, 16)
		if _, err := p.Write(rec); err != nil {
			t.Fatalf("Write %d: %v", seq, err)
		}
	}
	for range 2 {
		if err := p.Flush(); err != nil {
			t.Fatalf("Flush: %v", err)
		}
	}
	if err := rr.Expect(burst); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(); err != nil {
		t.Fatalf("Flush after the burst: %v", err)
	}
	rec = AppendRecord(rec[:0], 1, burst, 100)
	if _, err := p.Write(rec); err != nil {
		t.Fatalf("Write after the burst: %v", err)
	}
	if err := p.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if err := rr.Expect(1); err != nil {
		t.Fatal(err)
	}
}

// testFanOut: like a broker, the publisher's OnData writes what it reads to
// 100 subscriber connections, then flushes each; every subscriber gets the
// publisher's stream exactly.
func testFanOut(t *testing.T, newEngine factory) {
	const subscribers = 100
	var mu sync.Mutex
	var subs []*Peer
	h := start(t, newEngine, engines.Options{}, func(_ *Peer, data []byte) error {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range subs {
			if _, err := s.Write(data); err != nil {
				return fmt.Errorf("fan-out to %s: %w", s.Remote, err)
			}
		}
		for _, s := range subs {
			if err := s.Flush(); err != nil {
				return fmt.Errorf("flush %s: %w", s.Remote, err)
			}
		}
		return nil
	})
	clients := make([]net.Conn, subscribers)
	for i := range clients {
		c, p := h.Dial(t)
		clients[i] = c
		mu.Lock()
		subs = append(subs, p)
		mu.Unlock()
	}
	pub, _ := h.Dial(t)

	var stream []byte
	for seq := range uint32(sizes(2000, 300)) {
		stream = AppendRecord(stream, 0, seq, 57) // 64-byte messages
	}
	received := make(chan error, subscribers)
	for i, c := range clients {
		go func() {
			got, err := ReadN(c, len(stream))
			if err == nil && string(got) != string(stream) {
				err = fmt.Errorf("bytes differ from the published stream")
			}
			if err != nil {
				err = fmt.Errorf("subscriber %d: %w", i, err)
			}
			received <- err
		}()
	}
	if err := writeInPieces(pub, stream, 5); err != nil {
		t.Fatalf("publisher write: %v", err)
	}
	for range clients {
		if err := <-received; err != nil {
			t.Fatal(err)
		}
	}
}

// testManyConns: ManyConns clients connected at once each do a request and
// read the response, then all close; each connection gets its OnClose(io.EOF).
func testManyConns(t *testing.T, newEngine factory) {
	n := ManyConns
	if testing.Short() {
		n = min(n, 200)
	}
	h := start(t, newEngine, engines.Options{}, Echo)

	clients := dialMany(t, h.Addr, n)
	errs := make(chan error, n)
	peers := make(map[string]*Peer, n)
	for range n {
		p := h.Accept(t)
		peers[p.Remote] = p
	}

	for i, c := range clients {
		go func() {
			req := fmt.Appendf(nil, "request %d from %s", i, c.LocalAddr())
			c.SetWriteDeadline(time.Now().Add(Timeout))
			_, err := c.Write(req)
			if err == nil {
				var resp []byte
				resp, err = ReadN(c, len(req))
				if err == nil && string(resp) != string(req) {
					err = fmt.Errorf("response %q, want %q", resp, req)
				}
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("client: %v", err)
		}
	}

	for _, c := range clients {
		p := peers[c.LocalAddr().String()]
		if p == nil {
			t.Fatalf("no server connection has RemoteAddr %s", c.LocalAddr())
		}
		c.Close()
		if err := p.WaitClosed(t); !isEOF(err) {
			t.Fatalf("%s: OnClose(%v), want io.EOF", p.Remote, err)
		}
	}
}

// testRemoteAddr: each connection's RemoteAddr is its client's local address
// (connect checks it), it is a TCP address, and it stays valid after Close.
func testRemoteAddr(t *testing.T, newEngine factory) {
	h := start(t, newEngine, engines.Options{}, nil)
	for range 5 {
		c, p := h.Dial(t)
		if _, ok := p.RemoteAddr().(*net.TCPAddr); !ok {
			t.Fatalf("RemoteAddr is a %T, want *net.TCPAddr", p.RemoteAddr())
		}
		if err := p.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		p.WaitClosed(t)
		if got, want := p.RemoteAddr().String(), c.LocalAddr().String(); got != want {
			t.Fatalf("RemoteAddr after Close is %s, want %s", got, want)
		}
	}
}

// dialMany connects n clients at once (at most 64 dials in flight, so the
// listen backlog does not overflow); t.Cleanup closes them.
func dialMany(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	type dialed struct {
		conn net.Conn
		err  error
	}
	results := make(chan dialed, n)
	inFlight := make(chan struct{}, 64)
	go func() {
		for range n {
			inFlight <- struct{}{}
			go func() {
				c, err := net.DialTimeout("tcp", addr, Timeout)
				<-inFlight
				results <- dialed{c, err}
			}()
		}
	}()
	clients := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range clients {
			c.Close()
		}
	})
	var firstErr error
	for range n {
		r := <-results
		if r.err != nil {
			firstErr = cmp.Or(firstErr, r.err)
			continue
		}
		clients = append(clients, r.conn)
	}
	if firstErr != nil {
		t.Fatalf("dial: %v", firstErr)
	}
	return clients
}
