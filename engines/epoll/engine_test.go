//go:build linux

package epoll_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/enginetest"
	"github.com/pubsubx/pubsubx/engines/epoll"
)

func TestEchoOnManyLoops(t *testing.T) {
	s := serve(t, engines.Options{Loops: 3}, enginetest.Handlers{Data: enginetest.Echo})
	loopsUsed := map[int]bool{}
	for i := range 9 {
		nc, sc := s.Dial(t)
		loopsUsed[epoll.LoopOf(sc.Conn)] = true
		msg := pattern(i, 100+i)
		enginetest.MustWrite(t, nc, msg)
		checkPattern(t, enginetest.MustRead(t, nc, len(msg)), i)
	}
	if len(loopsUsed) != 3 {
		t.Errorf("connections used loops %v, want all 3", loopsUsed)
	}
}

func TestLocalCloseFlushesThenCloses(t *testing.T) {
	s := serve(t, engines.Options{Loops: 1}, enginetest.Handlers{})
	nc, sc := s.Dial(t)
	if _, err := sc.Write([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	if err := sc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := sc.Close(); !errors.Is(err, engines.ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
	if _, err := sc.Write([]byte("x")); !errors.Is(err, engines.ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}
	if err := sc.Flush(); !errors.Is(err, engines.ErrClosed) {
		t.Errorf("Flush after Close: %v, want ErrClosed", err)
	}
	expectEOF(t, nc, "last words")
	if err := sc.WaitClosed(t); err != nil {
		t.Errorf("OnClose(%v), want nil after a local Close", err)
	}
	if sc.RemoteAddr().String() != nc.LocalAddr().String() {
		t.Errorf("RemoteAddr after Close = %v, want %v", sc.RemoteAddr(), nc.LocalAddr())
	}
}

func TestOnDataErrorFlushesThenCloses(t *testing.T) {
	errBad := errors.New("bad input")
	s := serve(t, engines.Options{}, enginetest.Handlers{Data: func(p *enginetest.Peer, _ []byte) error {
		p.Write([]byte("refused"))
		return errBad
	}})
	nc, sc := s.Dial(t)
	// More input than one read takes, so some is unread when the engine
	// closes. It drops what has arrived before closing, but bytes still in
	// flight make the kernel answer with a reset; the reply must be read
	// either way.
	nc.Write(make([]byte, 256<<10))
	nc.SetReadDeadline(time.Now().Add(enginetest.Timeout))
	got, err := io.ReadAll(nc)
	if string(got) != "refused" || (err != nil && !errors.Is(err, syscall.ECONNRESET)) {
		t.Errorf("read %q, %v; want \"refused\" then EOF or a reset", got, err)
	}
	if err := sc.WaitClosed(t); err != errBad {
		t.Errorf("OnClose(%v), want the OnData error", err)
	}
}

// A peer's orderly close ends in OnClose(io.EOF), its reset in an
// *os.SyscallError for ECONNRESET; either way the Conn is closed.
func TestPeerHangUp(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reset bool
		check func(error) bool
	}{
		{"orderly", false, func(err error) bool { return err == io.EOF }},
		{"reset", true, func(err error) bool {
			var se *os.SyscallError
			return errors.As(err, &se) && errors.Is(err, syscall.ECONNRESET)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := serve(t, engines.Options{}, enginetest.Handlers{})
			nc, sc := s.Dial(t)
			if tc.reset {
				nc.SetLinger(0) // close sends a reset
			}
			nc.Close()
			if err := sc.WaitClosed(t); !tc.check(err) {
				t.Errorf("OnClose(%v)", err)
			}
			if _, err := sc.Write([]byte("x")); !errors.Is(err, engines.ErrClosed) {
				t.Errorf("Write after the peer left: %v, want ErrClosed", err)
			}
		})
	}
}

func TestOutboundBound(t *testing.T) {
	const bound = 64 << 10
	s := serve(t, engines.Options{MaxOutboundBytes: bound}, enginetest.Handlers{})
	nc, sc := s.Dial(t)
	// Without Flush nothing leaves the queue, so the bound is exact.
	if _, err := sc.Write(pattern(0, bound-10)); err != nil {
		t.Fatal(err)
	}
	if n, err := sc.Write(pattern(bound-10, 11)); err != engines.ErrOutboundFull || n != 0 {
		t.Fatalf("Write past the bound = %d, %v; want 0, ErrOutboundFull", n, err)
	}
	if _, err := sc.Write(pattern(bound-10, 10)); err != nil {
		t.Fatalf("Write up to the bound: %v", err)
	}
	if err := sc.Flush(); err != nil {
		t.Fatal(err)
	}
	checkPattern(t, enginetest.MustRead(t, nc, bound), 0)
}

func TestOpenMayWriteOrRefuse(t *testing.T) {
	var opened atomic.Int32
	s := serve(t, engines.Options{}, enginetest.Handlers{Open: func(p *enginetest.Peer) {
		p.Write([]byte("hello"))
		p.Flush()
		if opened.Add(1)%2 == 0 {
			p.Close()
		}
	}})
	for i := range 4 {
		nc, sc := s.Dial(t)
		if i%2 == 1 { // the second and fourth open call Close
			expectEOF(t, nc, "hello")
			if err := sc.WaitClosed(t); err != nil {
				t.Errorf("OnClose(%v) after Close in open, want nil", err)
			}
			continue
		}
		if got := enginetest.MustRead(t, nc, 5); string(got) != "hello" {
			t.Errorf("got %q, want hello", got)
		}
	}
}

func TestServeAndShutdownMisuse(t *testing.T) {
	eng, err := epoll.NewEngine(engines.Options{Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Serve(ln, nil); err != epoll.ErrNilOpen {
		t.Errorf("Serve(nil open) = %v, want ErrNilOpen", err)
	}
	// Shutdown before Serve releases the loops; Serve then refuses.
	if err := eng.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown before Serve: %v", err)
	}
	if err := eng.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	if err := eng.Serve(ln2, refuse); err != engines.ErrServerClosed {
		t.Errorf("Serve after Shutdown = %v, want ErrServerClosed", err)
	}
	if _, err := net.Dial("tcp", ln2.Addr().String()); err == nil {
		t.Errorf("Serve left its listener open")
	}

	s := serve(t, engines.Options{}, enginetest.Handlers{})
	s.Dial(t) // Serve is running
	ln3, _ := net.Listen("tcp", "127.0.0.1:0")
	if err := s.Engine.Serve(ln3, refuse); err != epoll.ErrServeTwice {
		t.Errorf("second Serve = %v, want ErrServeTwice", err)
	}
}

// A listener whose connections hide their socket cannot be served.
type opaqueListener struct{ net.Listener }

type opaqueConn struct{ net.Conn }

func (l opaqueListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return opaqueConn{c}, nil
}

func TestServeNeedsSockets(t *testing.T) {
	eng, err := epoll.NewEngine(engines.Options{Loops: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Shutdown(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() {
		served <- eng.Serve(opaqueListener{ln}, refuse)
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	select {
	case err := <-served:
		if err != epoll.ErrNoDescriptor {
			t.Errorf("Serve = %v, want ErrNoDescriptor", err)
		}
	case <-time.After(enginetest.Timeout):
		t.Fatal("Serve did not return")
	}
}
