// Package enginetest is the conformance suite of PubSubX's I/O engines. Every
// engine runs the same scenarios over real loopback TCP sockets, so the core can
// rely on the promises of package engines whichever engine serves it (in the
// spirit of testing/fstest). An engine's test is one line:
//
//	func TestConformance(t *testing.T) { enginetest.Run(t, epoll.NewEngine) }
//
// Each scenario is a subtest with a fresh engine and listener. Every wait has a
// deadline (Timeout), so a broken engine fails a scenario instead of hanging the
// test binary. Run the suite with -race: several scenarios call Conn methods
// from many goroutines at once. With -short the scenarios move less data.
//
// Beyond what each scenario tests, the suite checks the callback order of every
// connection it serves: OnData calls never overlap, no OnData follows OnClose,
// OnClose runs exactly once, and after a successful Shutdown every connection
// has had its OnClose.
//
// # Readings of the contract
//
// Where package engines leaves room, the suite holds engines to these readings:
//   - The first Close of an open connection returns nil. Later Closes, and
//     every Write or Flush that starts after a Close has returned, return
//     ErrClosed (Write with n == 0).
//   - OnClose's error: errors.Is(err, io.EOF) after the peer's orderly close;
//     nil after a local Close or an orderly Shutdown; errors.Is the OnData
//     error that ended the connection.
//   - A Write longer than MaxOutboundBytes fails with ErrOutboundFull even on
//     an empty queue.
//   - Close and Shutdown deliver queued bytes, flushed or not, before the FIN
//     (32 KiB to a reading peer).
//   - Shutdown closes the listener: no open call after it returns. When its
//     context ends first it returns promptly (within Timeout/10), with nil or
//     the context's error, and every connection still gets its OnClose.
//   - When the listener fails (here: its owner closes it), Serve returns an
//     error other than ErrServerClosed instead of hanging.
//
// The suite's variables (Timeout, ManyConns) are read by Run; set them before
// calling Run, never while it runs.
package enginetest

import (
	"context"
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

// Timeout bounds every single wait of the suite: a read, an OnClose, a
// Shutdown. It is generous so that a loaded CI machine does not fail a correct
// engine; a broken engine still fails rather than hangs.
var Timeout = 30 * time.Second

// ManyConns is the number of concurrent clients of the ManyConns scenario. Each
// client costs two file descriptors in the test process (client and server
// side); keep 2*ManyConns well under `ulimit -n`. -short caps it at 200.
var ManyConns = 1000

// errHandler is what a scenario's OnData returns to make the engine close.
var errHandler = errors.New("enginetest: handler error")

// factory builds one engine; Run gets one from the engine's test.
type factory = func(engines.Options) (engines.Engine, error)

// scenario is one subtest of Run.
type scenario struct {
	name string
	run  func(t *testing.T, newEngine factory)
}

// Run runs every conformance scenario as a subtest against engines made by
// newEngine (a fresh one per scenario). It must be called from the test's own
// goroutine.
func Run(t *testing.T, newEngine func(engines.Options) (engines.Engine, error)) {
	for _, s := range scenarios() {
		t.Run(s.name, func(t *testing.T) { s.run(t, newEngine) })
	}
}

// scenarios lists the suite; each group is defined in one scenarios_*.go file.
func scenarios() []scenario {
	var all []scenario
	all = append(all, dataScenarios()...)
	all = append(all, closeScenarios()...)
	all = append(all, boundScenarios()...)
	return all
}

// group nests scenarios under one subtest name.
func group(ss ...scenario) func(*testing.T, factory) {
	return func(t *testing.T, newEngine factory) {
		for _, s := range ss {
			t.Run(s.name, func(t *testing.T) { s.run(t, newEngine) })
		}
	}
}

// dataFunc is a scenario's OnData: p is the connection's server side.
type dataFunc func(p *peer, data []byte) error

// harness is one engine serving one loopback listener for one scenario.
type harness struct {
	t       *testing.T
	engine  engines.Engine
	ln      net.Listener
	addr    string
	onData  dataFunc
	onClose func(p *peer, err error) // optional, runs inside OnClose
	opened  chan *peer               // every peer, in the order open saw them
	served  chan error               // Serve's result
	serveMu sync.Mutex
	serve   *error // Serve's result once received

	mu       sync.Mutex
	peers    []*peer
	problems []string
	shutDown bool // a scenario called Shutdown itself

	listenerFailed bool // Serve ended with the listener's error, not ErrServerClosed
}

// start builds an engine with opts, serves a fresh loopback listener in a
// goroutine and registers the shutdown and the final checks with t.Cleanup.
func start(t *testing.T, newEngine factory, opts engines.Options, onData dataFunc) *harness {
	t.Helper()
	return startWithClose(t, newEngine, opts, onData, nil)
}

// startWithClose is start with a function that runs inside every OnClose.
func startWithClose(t *testing.T, newEngine factory, opts engines.Options, onData dataFunc, onClose func(*peer, error)) *harness {
	t.Helper()
	eng, err := newEngine(opts)
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	h := &harness{
		t:       t,
		engine:  eng,
		ln:      ln,
		addr:    ln.Addr().String(),
		onData:  onData,
		onClose: onClose,
		opened:  make(chan *peer, 2*max(ManyConns, 100)+256),
		served:  make(chan error, 1),
	}
	go func() { h.served <- eng.Serve(ln, h.open) }()
	t.Cleanup(h.finish)
	return h
}

// open is the function the engine calls for every accepted connection.
func (h *harness) open(c engines.Conn) engines.Handler {
	p := &peer{Conn: c, h: h, closed: make(chan struct{})}
	if addr := c.RemoteAddr(); addr == nil {
		h.problem("open: RemoteAddr is nil")
	} else {
		p.remote = addr.String()
	}
	h.mu.Lock()
	h.peers = append(h.peers, p)
	h.mu.Unlock()
	select {
	case h.opened <- p:
	default:
		h.problem("open: more connections than the suite expects")
	}
	return p
}

// problem records a contract violation seen inside a callback; finish reports it.
func (h *harness) problem(format string, args ...any) {
	h.mu.Lock()
	h.problems = append(h.problems, fmt.Sprintf(format, args...))
	h.mu.Unlock()
}

// shutdown calls Shutdown with a context that ends after d and returns its
// result; it fails t if Shutdown ignores the context and does not return.
func (h *harness) shutdown(t *testing.T, d time.Duration) error {
	h.mu.Lock()
	h.shutDown = true
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.engine.Shutdown(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(d + Timeout):
		t.Errorf("Shutdown did not return %v after its context ended", Timeout)
		return context.DeadlineExceeded
	}
}

// serveResult waits for Serve to return and gives its error.
func (h *harness) serveResult(t *testing.T) error {
	h.serveMu.Lock()
	defer h.serveMu.Unlock()
	if h.serve == nil {
		select {
		case err := <-h.served:
			h.serve = &err
		case <-time.After(Timeout):
			t.Errorf("Serve did not return within %v", Timeout)
			err := errors.New("enginetest: Serve did not return")
			h.serve = &err
		}
	}
	return *h.serve
}

// finish shuts the engine down (unless the scenario did) and checks what every
// scenario must hold: Serve returned ErrServerClosed, every connection got
// exactly one OnClose, no callback broke the order.
func (h *harness) finish() {
	t := h.t
	h.mu.Lock()
	scenarioShutDown := h.shutDown
	h.mu.Unlock()
	if !scenarioShutDown {
		if err := h.shutdown(t, Timeout); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}
	if err := h.serveResult(t); !h.listenerFailed && !errors.Is(err, engines.ErrServerClosed) {
		t.Errorf("Serve returned %v after Shutdown, want ErrServerClosed", err)
	}
	h.mu.Lock()
	peers := h.peers
	h.mu.Unlock()
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	for _, p := range peers {
		select {
		case <-p.closed:
		case <-deadline.C:
			t.Errorf("%s: no OnClose after Shutdown", p.remote)
			return
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, msg := range h.problems {
		t.Error(msg)
	}
}

// accept waits for the engine to open the next connection.
func (h *harness) accept(t *testing.T) *peer {
	t.Helper()
	select {
	case p := <-h.opened:
		return p
	case <-time.After(Timeout):
		t.Fatalf("engine did not open a connection within %v", Timeout)
		return nil
	}
}

// dial connects a client to the engine; t.Cleanup closes it.
func (h *harness) dial(t *testing.T) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", h.addr, Timeout)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// connect dials and waits for the engine to open the connection, checking that
// the server side's RemoteAddr is the client's local address. No other client
// may be connecting at the same time.
func (h *harness) connect(t *testing.T) (*net.TCPConn, *peer) {
	t.Helper()
	c := h.dial(t)
	p := h.accept(t)
	if want := c.LocalAddr().String(); p.remote != want {
		t.Fatalf("RemoteAddr is %s, want the client's address %s", p.remote, want)
	}
	return c, p
}

// peer is the server side of one connection: the engine's Conn and the Handler
// the suite gave the engine for it. It checks the callback order.
type peer struct {
	engines.Conn
	h      *harness
	remote string // RemoteAddr at open

	inData     atomic.Int32
	dataCalls  atomic.Int64
	closeCalls atomic.Int32
	closeErr   error         // OnClose's argument; read it after closed
	closed     chan struct{} // closed when OnClose has returned

	// received is scenario state written only inside OnData (calls never
	// overlap); read it after closed.
	received []byte
}

// OnData checks the order and runs the scenario's data function.
func (p *peer) OnData(data []byte) error {
	if p.inData.Add(1) != 1 {
		p.h.problem("%s: OnData calls overlap", p.remote)
	}
	defer p.inData.Add(-1)
	if p.closeCalls.Load() != 0 {
		p.h.problem("%s: OnData after OnClose", p.remote)
	}
	if len(data) == 0 {
		p.h.problem("%s: OnData with no bytes", p.remote)
	}
	p.dataCalls.Add(1)
	if p.h.onData == nil {
		return nil
	}
	return p.h.onData(p, data)
}

// OnClose checks that it runs once and last, then records err.
func (p *peer) OnClose(err error) {
	if n := p.closeCalls.Add(1); n != 1 {
		p.h.problem("%s: OnClose called %d times", p.remote, n)
		return
	}
	if p.inData.Load() != 0 {
		p.h.problem("%s: OnClose while OnData runs", p.remote)
	}
	if p.h.onClose != nil {
		p.h.onClose(p, err)
	}
	p.closeErr = err
	close(p.closed)
}

// waitClosed waits for the peer's OnClose and returns its argument.
func (p *peer) waitClosed(t *testing.T) error {
	t.Helper()
	select {
	case <-p.closed:
		return p.closeErr
	case <-time.After(Timeout):
		t.Fatalf("%s: no OnClose within %v", p.remote, Timeout)
		return nil
	}
}

// echo is the OnData of an echo server.
func echo(p *peer, data []byte) error {
	if _, err := p.Write(data); err != nil {
		return err
	}
	return p.Flush()
}

// readN reads exactly n bytes from c within Timeout.
func readN(c net.Conn, n int) ([]byte, error) {
	buf := make([]byte, n)
	c.SetReadDeadline(time.Now().Add(Timeout))
	got, err := io.ReadFull(c, buf)
	if err != nil {
		return buf[:got], fmt.Errorf("read %d of %d bytes: %w", got, n, err)
	}
	return buf, nil
}

// mustRead is readN that fails t; call it from the test's goroutine only.
func mustRead(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	buf, err := readN(c, n)
	if err != nil {
		t.Fatal(err)
	}
	return buf
}

// mustWrite writes p to c within Timeout; call it from the test's goroutine only.
func mustWrite(t *testing.T, c net.Conn, p []byte) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(Timeout))
	if _, err := c.Write(p); err != nil {
		t.Fatalf("client write: %v", err)
	}
}

// expectEOF checks that the server closed c after sending everything read so
// far: the next read returns io.EOF.
func expectEOF(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(Timeout))
	var b [1]byte
	n, err := c.Read(b[:])
	if n != 0 || err != io.EOF {
		t.Fatalf("after the server closed: read %d bytes, %v; want io.EOF", n, err)
	}
}

// expectClosedByServer checks that the server closed c: a read ends with EOF or
// an error other than a timeout. Unlike expectEOF it accepts a reset.
func expectClosedByServer(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(Timeout))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server did not close the connection within %v", Timeout)
	}
}

// sameBytes fails t at the first difference between got and want.
func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d bytes, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: byte %d is %#x, want %#x", what, i, got[i], want[i])
		}
	}
}

// waitUntil polls cond until it holds, failing t after Timeout.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", Timeout, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// sizes picks the amount of data for a scenario: full normally, small with -short.
func sizes(full, short int) int {
	if testing.Short() {
		return short
	}
	return full
}
