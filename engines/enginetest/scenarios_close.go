package enginetest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
)

// closeScenarios end connections in every way the contract names.
func closeScenarios() []scenario {
	return []scenario{
		{"OnClose", group(
			scenario{"PeerCloses", testPeerCloses},
			scenario{"CloseInsideOnData", testCloseInsideOnData},
			scenario{"CloseFromOtherGoroutine", testCloseFromOtherGoroutine},
			scenario{"OnDataError", testOnDataError},
			scenario{"Shutdown", testShutdownClosesAll},
		)},
		{"CloseFlushesQueued", testCloseFlushesQueued},
		{"AfterClose", testAfterClose},
		{"ConcurrentClose", testConcurrentClose},
	}
}

// isEOF reports whether err says the peer closed the connection.
func isEOF(err error) bool { return errors.Is(err, io.EOF) }

// checkClosedConn checks a connection whose OnClose has run: every method
// returns ErrClosed and RemoteAddr still names the client.
func checkClosedConn(t *testing.T, p *Peer, client net.Conn) {
	t.Helper()
	for _, b := range [][]byte{[]byte("late"), nil} {
		if n, err := p.Write(b); n != 0 || !errors.Is(err, engines.ErrClosed) {
			t.Errorf("Write(%d bytes) after close = %d, %v; want 0, ErrClosed", len(b), n, err)
		}
	}
	if err := p.Flush(); !errors.Is(err, engines.ErrClosed) {
		t.Errorf("Flush after close = %v, want ErrClosed", err)
	}
	if err := p.Close(); !errors.Is(err, engines.ErrClosed) {
		t.Errorf("Close after close = %v, want ErrClosed", err)
	}
	if addr := p.RemoteAddr(); addr == nil || addr.String() != client.LocalAddr().String() {
		t.Errorf("RemoteAddr after close = %v, want %s", addr, client.LocalAddr())
	}
}

// testPeerCloses: the client closes; the engine delivers what came before,
// then OnClose(io.EOF).
func testPeerCloses(t *testing.T, newEngine factory) {
	h := start(t, newEngine, engines.Options{}, Echo)
	c, p := h.Dial(t)
	MustWrite(t, c, []byte("ping"))
	sameBytes(t, "echo", MustRead(t, c, 4), []byte("ping"))
	c.Close()
	if err := p.WaitClosed(t); !isEOF(err) {
		t.Fatalf("OnClose(%v) after the peer closed, want io.EOF", err)
	}
	checkClosedConn(t, p, c)
}

// testCloseInsideOnData: the handler closes its connection from OnData; the
// client then sends more, which must not reach OnData after OnClose.
func testCloseInsideOnData(t *testing.T, newEngine factory) {
	closeErr := make(chan error, 1)
	h := start(t, newEngine, engines.Options{}, func(p *Peer, data []byte) error {
		if p.dataCalls.Load() == 1 {
			closeErr <- p.Close()
		}
		return nil
	})
	c, p := h.Dial(t)
	MustWrite(t, c, []byte("x"))
	if err := <-closeErr; err != nil {
		t.Fatalf("first Close = %v, want nil", err)
	}
	ExpectEOF(t, c)
	c.Write([]byte("more data after the server closed")) // may fail: the server is gone
	if err := p.WaitClosed(t); err != nil {
		t.Fatalf("OnClose(%v) after a local Close, want nil", err)
	}
	checkClosedConn(t, p, c)
}

// testCloseFromOtherGoroutine: Close called from outside the callbacks.
func testCloseFromOtherGoroutine(t *testing.T, newEngine factory) {
	h := start(t, newEngine, engines.Options{}, nil)
	c, p := h.Dial(t)
	closeErr := make(chan error, 1)
	go func() { closeErr <- p.Close() }()
	if err := <-closeErr; err != nil {
		t.Fatalf("first Close = %v, want nil", err)
	}
	ExpectEOF(t, c)
	if err := p.WaitClosed(t); err != nil {
		t.Fatalf("OnClose(%v) after a local Close, want nil", err)
	}
	checkClosedConn(t, p, c)
}

// testOnDataError: an error from OnData closes the connection and becomes
// OnClose's argument.
func testOnDataError(t *testing.T, newEngine factory) {
	h := start(t, newEngine, engines.Options{}, func(*Peer, []byte) error { return errHandler })
	c, p := h.Dial(t)
	MustWrite(t, c, []byte("x"))
	expectClosedByServer(t, c)
	if err := p.WaitClosed(t); !errors.Is(err, errHandler) {
		t.Fatalf("OnClose(%v), want the OnData error %v", err, errHandler)
	}
	if n := p.dataCalls.Load(); n != 1 {
		t.Fatalf("%d OnData calls, want 1: none may follow an error", n)
	}
	checkClosedConn(t, p, c)
}

// testShutdownClosesAll: Shutdown with idle connections open closes each, and
// returns only after every OnClose has returned (each OnClose dawdles a bit).
func testShutdownClosesAll(t *testing.T, newEngine factory) {
	var returned atomic.Int32
	h := Serve(t, newEngine, engines.Options{}, Handlers{Close: func(*Peer, error) {
		time.Sleep(20 * time.Millisecond)
		returned.Add(1)
	}})
	const conns = 10
	clients := make([]net.Conn, conns)
	peers := make([]*Peer, conns)
	for i := range clients {
		clients[i], peers[i] = h.Dial(t)
	}
	if err := h.Shutdown(t, Timeout); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := returned.Load(); n != conns {
		t.Fatalf("Shutdown returned when %d of %d OnClose calls had returned", n, conns)
	}
	for i, p := range peers {
		if err := p.WaitClosed(t); err != nil {
			t.Errorf("OnClose(%v) at Shutdown, want nil", err)
		}
		ExpectEOF(t, clients[i])
	}
}

// testCloseFlushesQueued: data written before Close reaches the peer before
// EOF, whether it was flushed already or not.
func testCloseFlushesQueued(t *testing.T, newEngine factory) {
	want := pattern(32<<10, 6)
	h := start(t, newEngine, engines.Options{}, func(p *Peer, data []byte) error {
		for i := 0; i < len(want); i += 1 << 10 {
			if _, err := p.Write(want[i : i+1<<10]); err != nil {
				return err
			}
			if i == len(want)/2 {
				if err := p.Flush(); err != nil {
					return err
				}
			}
		}
		return p.Close()
	})
	c, p := h.Dial(t)
	MustWrite(t, c, []byte("x")) // one byte: the server reads all we send
	sameBytes(t, "data written before Close", MustRead(t, c, len(want)), want)
	ExpectEOF(t, c)
	if err := p.WaitClosed(t); err != nil {
		t.Fatalf("OnClose(%v) after a local Close, want nil", err)
	}
}

// testAfterClose: once closed, every method returns ErrClosed and none panics,
// for a connection closed locally and one closed by its peer.
func testAfterClose(t *testing.T, newEngine factory) {
	h := start(t, newEngine, engines.Options{}, nil)
	c, p := h.Dial(t)
	if err := p.Close(); err != nil {
		t.Fatalf("first Close = %v, want nil", err)
	}
	checkClosedConn(t, p, c) // right after Close returned, before OnClose
	if err := p.WaitClosed(t); err != nil {
		t.Fatalf("OnClose(%v) after a local Close, want nil", err)
	}
	checkClosedConn(t, p, c)

	c, p = h.Dial(t)
	c.Close()
	if err := p.WaitClosed(t); !isEOF(err) {
		t.Fatalf("OnClose(%v) after the peer closed, want io.EOF", err)
	}
	checkClosedConn(t, p, c)
}

// testConcurrentClose: Close races with Writes and Flushes from 8 goroutines
// and with 7 other Closes. Exactly one Close returns nil; every other call
// returns nil, ErrOutboundFull or ErrClosed, and ErrClosed once a Close has
// returned.
func testConcurrentClose(t *testing.T, newEngine factory) {
	h := start(t, newEngine, engines.Options{}, nil)
	c, p := h.Dial(t)
	go io.Copy(io.Discard, c)

	var closed atomic.Bool // set when a Close has returned
	var writes atomic.Int64
	const goroutines = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*goroutines)
	for w := range goroutines {
		wg.Go(func() {
			var rec []byte
			for seq := uint32(0); ; seq++ {
				after := closed.Load()
				rec = AppendRecord(rec[:0], byte(w), seq, 100)
				_, err := p.Write(rec)
				if after && !errors.Is(err, engines.ErrClosed) {
					errs <- fmt.Errorf("Write after Close returned = %v, want ErrClosed", err)
					return
				}
				if err == nil {
					writes.Add(1)
					err = p.Flush()
				}
				switch {
				case errors.Is(err, engines.ErrClosed):
					return
				case err != nil && !errors.Is(err, engines.ErrOutboundFull):
					errs <- err
					return
				}
			}
		})
	}
	WaitUntil(t, "writes before closing", func() bool { return writes.Load() >= 100 })

	var nils atomic.Int32
	for range goroutines {
		wg.Go(func() {
			err := p.Close()
			closed.Store(true)
			if err == nil {
				nils.Add(1)
			} else if !errors.Is(err, engines.ErrClosed) {
				errs <- err
			}
		})
	}
	WaitGroup(t, &wg, "writers and closers")
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := nils.Load(); n != 1 {
		t.Fatalf("%d concurrent Close calls returned nil, want exactly 1", n)
	}
	if err := p.WaitClosed(t); err != nil {
		t.Fatalf("OnClose(%v) after a local Close, want nil", err)
	}
}
