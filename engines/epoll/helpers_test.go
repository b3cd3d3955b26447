//go:build linux

package epoll_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/epoll"
)

// testTimeout bounds every wait in these tests; generous for a loaded CI box.
const testTimeout = 30 * time.Second

// funcHandler adapts two functions to engines.Handler; nil ones do nothing.
type funcHandler struct {
	data  func(p []byte) error
	close func(err error)
}

func (h funcHandler) OnData(p []byte) error {
	if h.data == nil {
		return nil
	}
	return h.data(p)
}

func (h funcHandler) OnClose(err error) {
	if h.close != nil {
		h.close(err)
	}
}

// server is an engine serving a loopback listener.
type server struct {
	t      testing.TB
	eng    engines.Engine
	addr   string
	opened chan engines.Conn // every conn, as open is called
	served chan error        // Serve's result
}

// startServer runs a new engine on 127.0.0.1:0. newHandler builds each
// conn's handler (nil: a handler that does nothing). The engine is shut down
// at the end of the test, and Serve must then have returned ErrServerClosed.
func startServer(t testing.TB, o engines.Options, newHandler func(engines.Conn) engines.Handler) *server {
	t.Helper()
	eng, err := epoll.NewEngine(o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, eng: eng, addr: ln.Addr().String(),
		opened: make(chan engines.Conn, 1<<14), served: make(chan error, 1)}
	go func() {
		s.served <- eng.Serve(ln, func(c engines.Conn) engines.Handler {
			s.opened <- c
			if newHandler == nil {
				return funcHandler{}
			}
			return newHandler(c)
		})
	}()
	t.Cleanup(func() { s.shutdown() })
	return s
}

// shutdown stops the engine and checks Serve's result; safe to call twice.
func (s *server) shutdown() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := s.eng.Shutdown(ctx); err != nil {
		s.t.Errorf("Shutdown: %v", err)
	}
	select {
	case err := <-s.served:
		if !errors.Is(err, engines.ErrServerClosed) {
			s.t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		s.served <- err // for a second call
	case <-ctx.Done():
		s.t.Errorf("Serve did not return after Shutdown")
	}
}

// dial connects a client and returns it with the server's side of it.
func (s *server) dial() (net.Conn, engines.Conn) {
	s.t.Helper()
	nc, err := net.Dial("tcp", s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { nc.Close() })
	return nc, s.next()
}

// next waits for the next opened server conn.
func (s *server) next() engines.Conn {
	s.t.Helper()
	select {
	case c := <-s.opened:
		return c
	case <-time.After(testTimeout):
		s.t.Fatal("no connection opened")
		return nil
	}
}

// readFull reads len(buf) bytes from nc within testTimeout.
func readFull(t testing.TB, nc net.Conn, buf []byte) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(testTimeout))
	if _, err := io.ReadFull(nc, buf); err != nil {
		t.Fatalf("read: %v", err)
	}
}

// expectEOF checks that the server closed nc, after any bytes in want.
func expectEOF(t testing.TB, nc net.Conn, want string) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(testTimeout))
	got, err := io.ReadAll(nc)
	if err != nil {
		t.Fatalf("reading until EOF: %v (got %q)", err, got)
	}
	if string(got) != want {
		t.Fatalf("read %q before EOF, want %q", got, want)
	}
}

// closeRecorder records OnClose calls.
type closeRecorder struct {
	mu    sync.Mutex
	errs  []error
	calls chan error
}

func newCloseRecorder(n int) *closeRecorder {
	return &closeRecorder{calls: make(chan error, n)}
}

func (r *closeRecorder) onClose(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
	r.calls <- err
}

// wait returns the next OnClose error.
func (r *closeRecorder) wait(t testing.TB) error {
	t.Helper()
	select {
	case err := <-r.calls:
		return err
	case <-time.After(testTimeout):
		t.Fatal("OnClose not called")
		return nil
	}
}

// count returns the OnClose calls so far.
func (r *closeRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errs)
}

// pattern returns n bytes of the stream byte(i % 251) starting at offset.
func pattern(offset, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((offset + i) % 251)
	}
	return b
}

// checkPattern verifies that b is the pattern stream at offset. It only
// reports, so reader goroutines may call it.
func checkPattern(t testing.TB, b []byte, offset int) {
	t.Helper()
	for i, v := range b {
		if v != byte((offset+i)%251) {
			t.Errorf("byte %d of the stream is %d, want %d", offset+i, v, (offset+i)%251)
			return
		}
	}
}

// eventually polls cond until it holds or testTimeout passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
