//go:build linux

package netpoll

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/enginetest"
)

// TestWriteInOpen: bytes written and flushed inside open (which runs in
// netpoll's OnPrepare, before it registered the connection) are sent once it
// is registered.
func TestWriteInOpen(t *testing.T) {
	greeting := []byte("hello from open")
	s := serve(t, engines.Options{}, DefaultWriteTimeout, enginetest.Handlers{Open: func(c *enginetest.Peer) {
		if _, err := c.Write(greeting); err != nil {
			t.Errorf("Write in open: %v", err)
		}
		if err := c.Flush(); err != nil {
			t.Errorf("Flush in open: %v", err)
		}
	}})
	c, _ := s.Dial(t)
	c.SetReadDeadline(time.Now().Add(timeout))
	got := make([]byte, len(greeting))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, greeting) {
		t.Fatalf("read %q, %v; want %q", got, err, greeting)
	}
}

// TestCloseInOpen: a Close inside open sends what was queued, then closes;
// OnClose(nil) follows once.
func TestCloseInOpen(t *testing.T) {
	bye := []byte("full, goodbye")
	s := serve(t, engines.Options{}, DefaultWriteTimeout, enginetest.Handlers{Open: func(c *enginetest.Peer) {
		c.Write(bye)
		if err := c.Close(); err != nil {
			t.Errorf("Close in open: %v", err)
		}
	}})
	c, h := s.Dial(t)
	c.SetReadDeadline(time.Now().Add(timeout))
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, bye) {
		t.Fatalf("read %q, %v; want %q then EOF", got, err, bye)
	}
	if err := h.WaitClosed(t); err != nil {
		t.Fatalf("OnClose(%v), want nil", err)
	}
}

// TestReadSlices: OnData gets at most ReadBufferSize bytes per call, and all
// bytes in order, when the client sends far more at once.
func TestReadSlices(t *testing.T) {
	const slice = 1000
	var got []byte
	calls := 0
	s := serve(t, engines.Options{ReadBufferSize: slice}, DefaultWriteTimeout, enginetest.Handlers{Data: func(_ *enginetest.Peer, p []byte) error {
		if len(p) > slice {
			return errors.New("OnData got more than ReadBufferSize bytes")
		}
		calls++
		got = append(got, p...)
		return nil
	}})
	c, h := s.Dial(t)
	want := make([]byte, 1<<20)
	for i := range want {
		want[i] = byte(i * 7 / 5)
	}
	c.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := c.Write(want); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := h.WaitClosed(t); !errors.Is(err, io.EOF) {
		t.Fatalf("OnClose(%v), want io.EOF", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("OnData saw %d bytes, not the %d sent", len(got), len(want))
	}
	t.Logf("%d bytes in %d OnData calls", len(got), calls)
}

// TestProcessConfigOnce: netpoll's process-wide configuration is set once;
// an engine asking for another one reuses it and says so in its Settings.
func TestProcessConfigOnce(t *testing.T) {
	first, err := NewEngine(engines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	applied, ok := Config()
	if !ok || applied != first.(*Engine).Settings().Process {
		t.Fatalf("Config() = %v, %v; want the first engine's %v", applied, ok, first.(*Engine).Settings().Process)
	}
	second, err := NewEngine(engines.Options{Loops: applied.Pollers + 3, ReadBufferSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	st := second.(*Engine).Settings()
	if st.Process != applied || st.Requested.Pollers != applied.Pollers+3 || st.Requested.BufferSize != 512 {
		t.Fatalf("second engine's Settings = %+v; want Process %v and its own request", st, applied)
	}
	if st.ReadBufferSize != 512 {
		t.Fatalf("ReadBufferSize = %d, want the engine's own 512", st.ReadBufferSize)
	}
}

// TestServeTwice: a second Serve fails at once; Serve after Shutdown returns
// ErrServerClosed.
func TestServeTwice(t *testing.T) {
	s := serve(t, engines.Options{}, DefaultWriteTimeout, enginetest.Handlers{})
	s.Dial(t) // the first Serve runs
	// refuse is the open function of the Serve calls below; they fail first.
	refuse := func(engines.Conn) engines.Handler { return nil }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := s.Engine.Serve(ln, refuse); !errors.Is(err, errServeTwice) {
		t.Fatalf("second Serve = %v, want errServeTwice", err)
	}
	eng, err := newEngine(engines.Options{}, DefaultWriteTimeout, DefaultCloseTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown before Serve: %v", err)
	}
	if err := eng.Serve(ln, refuse); !errors.Is(err, engines.ErrServerClosed) {
		t.Fatalf("Serve after Shutdown = %v, want ErrServerClosed", err)
	}
}
