//go:build linux

package netpoll

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
)

// timeout bounds every wait of these tests; generous for a loaded CI machine.
const timeout = 30 * time.Second

// server is an engine serving a loopback listener for one test.
type server struct {
	eng    *Engine
	addr   string
	opened chan *handler
	served chan error
	onData func(*handler, []byte) error // optional
	onOpen func(engines.Conn)           // optional
}

// serve starts an engine with opts and the given write timeout; t.Cleanup
// shuts it down.
func serve(t testing.TB, opts engines.Options, writeTimeout time.Duration, onData func(*handler, []byte) error) *server {
	t.Helper()
	return serveHooked(t, opts, writeTimeout, onData, nil)
}

// serveHooked is serve with a function that open runs on each new Conn
// before it returns the Conn's handler.
func serveHooked(t testing.TB, opts engines.Options, writeTimeout time.Duration, onData func(*handler, []byte) error, onOpen func(engines.Conn)) *server {
	t.Helper()
	eng, err := newEngine(opts, writeTimeout, DefaultCloseTimeout)
	if err != nil {
		t.Fatalf("newEngine: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &server{eng: eng, addr: ln.Addr().String(), opened: make(chan *handler, 1024), served: make(chan error, 1), onData: onData, onOpen: onOpen}
	go func() { s.served <- eng.Serve(ln, s.open) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := eng.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		select {
		case err := <-s.served:
			if !errors.Is(err, engines.ErrServerClosed) {
				t.Errorf("Serve = %v, want ErrServerClosed", err)
			}
		case <-time.After(timeout):
			t.Error("Serve did not return after Shutdown")
		}
	})
	return s
}

func (s *server) open(c engines.Conn) engines.Handler {
	if s.onOpen != nil {
		s.onOpen(c)
	}
	h := &handler{Conn: c, onData: s.onData, closed: make(chan struct{})}
	s.opened <- h
	return h
}

// connect dials the server (with the client's receive buffer set to rcvbuf
// bytes before connecting, when rcvbuf > 0) and waits for its handler.
func (s *server) connect(t testing.TB, rcvbuf int) (*net.TCPConn, *handler) {
	t.Helper()
	d := net.Dialer{Timeout: timeout}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, raw syscall.RawConn) error {
			var serr error
			err := raw.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			return errors.Join(err, serr)
		}
	}
	c, err := d.Dial("tcp", s.addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	select {
	case h := <-s.opened:
		return c.(*net.TCPConn), h
	case <-time.After(timeout):
		t.Fatal("engine did not open the connection")
		return nil, nil
	}
}

// handler is the test's Handler for one connection; it checks that OnClose
// runs once and after every OnData.
type handler struct {
	engines.Conn
	onData   func(*handler, []byte) error
	inData   atomic.Int32
	closes   atomic.Int32
	problem  atomic.Value // string: a broken callback order
	closeErr error        // read after closed
	closed   chan struct{}
}

func (h *handler) OnData(p []byte) error {
	if h.inData.Add(1) != 1 || h.closes.Load() != 0 {
		h.problem.Store("OnData overlaps another OnData or follows OnClose")
	}
	defer h.inData.Add(-1)
	if h.onData == nil {
		return nil
	}
	return h.onData(h, p)
}

func (h *handler) OnClose(err error) {
	if h.closes.Add(1) != 1 {
		h.problem.Store("OnClose called twice")
		return
	}
	if h.inData.Load() != 0 {
		h.problem.Store("OnClose while OnData runs")
	}
	h.closeErr = err
	close(h.closed)
}

// waitClosed waits for OnClose and returns its argument; it fails t on a
// broken callback order.
func (h *handler) waitClosed(t *testing.T) error {
	t.Helper()
	select {
	case <-h.closed:
	case <-time.After(timeout):
		t.Fatal("no OnClose")
	}
	if p := h.problem.Load(); p != nil {
		t.Fatal(p)
	}
	return h.closeErr
}

// A record is what the writers of these tests send: stream (2 bytes),
// sequence number (4), payload length (4), payload derived from the three.
const recordHeader = 10

func appendRecord(dst []byte, stream uint16, seq uint32, size int) []byte {
	dst = binary.BigEndian.AppendUint16(dst, stream)
	dst = binary.BigEndian.AppendUint32(dst, seq)
	dst = binary.BigEndian.AppendUint32(dst, uint32(size))
	for i := range size {
		dst = append(dst, byte(int(stream)*13+int(seq)*7+i))
	}
	return dst
}

// readRecords reads n records from c and checks each whole and each stream's
// sequence numbers consecutive from 0.
func readRecords(c net.Conn, n int) error {
	c.SetReadDeadline(time.Now().Add(timeout))
	r := bufio.NewReaderSize(c, 64<<10)
	next := map[uint16]uint32{}
	var hdr [recordHeader]byte
	for i := range n {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return fmt.Errorf("record %d of %d: %w", i, n, err)
		}
		stream, seq := binary.BigEndian.Uint16(hdr[:]), binary.BigEndian.Uint32(hdr[2:])
		size := int(binary.BigEndian.Uint32(hdr[6:]))
		if seq != next[stream] {
			return fmt.Errorf("stream %d: record %d, want %d", stream, seq, next[stream])
		}
		next[stream]++
		for j := range size {
			b, err := r.ReadByte()
			if err != nil {
				return fmt.Errorf("record %d of stream %d: %w", seq, stream, err)
			}
			if b != byte(int(stream)*13+int(seq)*7+j) {
				return fmt.Errorf("record %d of stream %d: payload byte %d corrupt", seq, stream, j)
			}
		}
	}
	return nil
}

// waitGroup waits for wg within timeout.
func waitGroup(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("%s still running after %v", what, timeout)
	}
}
