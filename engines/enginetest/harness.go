package enginetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
)

// Handlers says what the connections of a Server do; nil fields do nothing.
// Each function gets the connection's Peer.
type Handlers struct {
	// Open runs inside the engine's open call, before it returns the Peer as
	// the connection's Handler. It may Write, Flush or Close.
	Open func(p *Peer)
	// Data is the Peer's OnData. data is valid only until it returns; calls
	// for one connection never overlap.
	Data func(p *Peer, data []byte) error
	// Close runs inside the Peer's OnClose, before Closed is closed and
	// WaitClosed returns.
	Close func(p *Peer, err error)
}

// Server is an engine serving a fresh loopback listener for one test or
// benchmark: the conformance scenarios run on it, and an engine's own tests
// and benchmarks may too. Every connection's Handler is a Peer, which checks
// the callback order the contract promises.
//
// Serve registers the end of the Server with tb.Cleanup: it shuts the engine
// down (unless the test called Server.Shutdown), checks that Serve returned
// ErrServerClosed (unless the test took the result with ServeResult), waits
// up to Timeout for every connection's OnClose, and reports every broken
// callback order as a test error.
//
// Server's methods are safe for concurrent use, but the ones taking a
// testing.TB fail it with Fatal: call those from the test's goroutine.
type Server struct {
	// Engine is the engine under test.
	Engine engines.Engine
	// Listener is the listener it serves; Addr is its address.
	Listener net.Listener
	Addr     string

	tb       testing.TB
	handlers Handlers
	served   chan error    // Serve's result, once
	opened   chan struct{} // a token per open not yet seen by Accept, at most one

	serveMu   sync.Mutex
	serve     *error // Serve's result once received
	serveSeen bool   // the test took Serve's result with ServeResult

	mu       sync.Mutex
	peers    []*Peer // every peer, in the order open saw them
	accepted int     // peers[:accepted] were returned by Accept
	problems []string
	shutDown bool // the test called Shutdown
}

// Serve builds an engine with newEngine(opts) and serves a fresh loopback
// listener with it in a goroutine, each connection's Handler a Peer doing
// what handlers say. The Server ends with the test (see Server).
func Serve(tb testing.TB, newEngine func(engines.Options) (engines.Engine, error), opts engines.Options, handlers Handlers) *Server {
	tb.Helper()
	eng, err := newEngine(opts)
	if err != nil {
		tb.Fatalf("new engine: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	s := &Server{
		Engine:   eng,
		Listener: ln,
		Addr:     ln.Addr().String(),
		tb:       tb,
		handlers: handlers,
		served:   make(chan error, 1),
		opened:   make(chan struct{}, 1),
	}
	go func() { s.served <- eng.Serve(ln, s.open) }()
	tb.Cleanup(s.finish)
	return s
}

// open is the function the engine calls for every accepted connection.
func (s *Server) open(c engines.Conn) engines.Handler {
	p := &Peer{Conn: c, srv: s, closed: make(chan struct{})}
	if addr := c.RemoteAddr(); addr == nil {
		s.problem("open: RemoteAddr is nil")
	} else {
		p.Remote = addr.String()
	}
	s.mu.Lock()
	s.peers = append(s.peers, p)
	s.mu.Unlock()
	select {
	case s.opened <- struct{}{}:
	default: // a token is waiting already; Accept looks at peers
	}
	if s.handlers.Open != nil {
		s.handlers.Open(p)
	}
	return p
}

// problem records a contract violation seen inside a callback; the Server's
// end reports it.
func (s *Server) problem(format string, args ...any) {
	s.mu.Lock()
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

// Accept waits up to Timeout for the next connection the engine opens, in
// the order open was called, and returns its Peer.
func (s *Server) Accept(tb testing.TB) *Peer {
	tb.Helper()
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if s.accepted < len(s.peers) {
			p := s.peers[s.accepted]
			s.accepted++
			s.mu.Unlock()
			return p
		}
		s.mu.Unlock()
		select {
		case <-s.opened:
		case <-deadline.C:
			tb.Fatalf("engine did not open a connection within %v", Timeout)
			return nil
		}
	}
}

// Dial connects a client to the engine and waits for the engine to open the
// connection. It checks that the server side's RemoteAddr is the client's
// local address, so no other client may be connecting at the same time.
// tb.Cleanup closes the client.
func (s *Server) Dial(tb testing.TB) (*net.TCPConn, *Peer) {
	tb.Helper()
	c, err := net.DialTimeout("tcp", s.Addr, Timeout)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	p := s.Accept(tb)
	if want := c.LocalAddr().String(); p.Remote != want {
		tb.Fatalf("RemoteAddr is %s, want the client's address %s", p.Remote, want)
	}
	return c.(*net.TCPConn), p
}

// Peers returns the Peers of every connection opened so far, in the order
// open was called.
func (s *Server) Peers() []*Peer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Peer(nil), s.peers...)
}

// Shutdown calls the engine's Shutdown with a context that ends after d and
// returns its result; it fails tb if Shutdown ignores the context and does
// not return within Timeout after it ended. The Server's end then does not
// call Shutdown again.
func (s *Server) Shutdown(tb testing.TB, d time.Duration) error {
	tb.Helper()
	s.mu.Lock()
	s.shutDown = true
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Engine.Shutdown(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(d + Timeout):
		tb.Errorf("Shutdown did not return %v after its context ended", Timeout)
		return context.DeadlineExceeded
	}
}

// ServeResult waits up to Timeout for the engine's Serve to return and
// gives its error. Once a test has taken it, checking it is the test's job:
// the Server's end no longer requires ErrServerClosed.
func (s *Server) ServeResult(tb testing.TB) error {
	tb.Helper()
	s.serveMu.Lock()
	s.serveSeen = true
	s.serveMu.Unlock()
	return s.serveResult(tb)
}

func (s *Server) serveResult(tb testing.TB) error {
	tb.Helper()
	s.serveMu.Lock()
	defer s.serveMu.Unlock()
	if s.serve == nil {
		select {
		case err := <-s.served:
			s.serve = &err
		case <-time.After(Timeout):
			tb.Errorf("Serve did not return within %v", Timeout)
			err := errors.New("enginetest: Serve did not return")
			s.serve = &err
		}
	}
	return *s.serve
}

// finish is the Server's end, run by tb.Cleanup; see Server.
func (s *Server) finish() {
	tb := s.tb
	s.mu.Lock()
	shutDown := s.shutDown
	s.mu.Unlock()
	if !shutDown {
		if err := s.Shutdown(tb, Timeout); err != nil {
			tb.Errorf("Shutdown: %v", err)
		}
	}
	err := s.serveResult(tb)
	s.serveMu.Lock()
	seen := s.serveSeen
	s.serveMu.Unlock()
	if !seen && !errors.Is(err, engines.ErrServerClosed) {
		tb.Errorf("Serve returned %v after Shutdown, want ErrServerClosed", err)
	}
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	for _, p := range s.Peers() {
		select {
		case <-p.closed:
		case <-deadline.C:
			tb.Errorf("%s: no OnClose after Shutdown", p.Remote)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, msg := range s.problems {
		tb.Error(msg)
	}
}

// Peer is the server side of one connection of a Server: the engine's Conn,
// whose methods it promotes, and the Handler the Server gave the engine for
// it. It checks the callback order: OnData calls never overlap, never carry
// no bytes and never follow OnClose, and OnClose runs once, not during
// OnData. Engine functions that look at their own connection type want
// p.Conn, not p.
type Peer struct {
	engines.Conn
	// Remote is the connection's RemoteAddr at open, as a string.
	Remote string

	srv        *Server
	inData     atomic.Int32
	dataCalls  atomic.Int64
	closeCalls atomic.Int32
	closeErr   error         // OnClose's argument; read it after closed
	closed     chan struct{} // closed when OnClose has returned
}

// OnData checks the callback order and runs the Server's Handlers.Data.
func (p *Peer) OnData(data []byte) error {
	if p.inData.Add(1) != 1 {
		p.srv.problem("%s: OnData calls overlap", p.Remote)
	}
	defer p.inData.Add(-1)
	if p.closeCalls.Load() != 0 {
		p.srv.problem("%s: OnData after OnClose", p.Remote)
	}
	if len(data) == 0 {
		p.srv.problem("%s: OnData with no bytes", p.Remote)
	}
	p.dataCalls.Add(1)
	if p.srv.handlers.Data == nil {
		return nil
	}
	return p.srv.handlers.Data(p, data)
}

// OnClose checks that it runs once and last, runs the Server's
// Handlers.Close, records err and closes Closed.
func (p *Peer) OnClose(err error) {
	if n := p.closeCalls.Add(1); n != 1 {
		p.srv.problem("%s: OnClose called %d times", p.Remote, n)
		return
	}
	if p.inData.Load() != 0 {
		p.srv.problem("%s: OnClose while OnData runs", p.Remote)
	}
	if p.srv.handlers.Close != nil {
		p.srv.handlers.Close(p, err)
	}
	p.closeErr = err
	close(p.closed)
}

// Closed is closed when the Peer's OnClose has returned.
func (p *Peer) Closed() <-chan struct{} { return p.closed }

// WaitClosed waits up to Timeout for the Peer's OnClose and returns its
// argument; it fails tb if none comes.
func (p *Peer) WaitClosed(tb testing.TB) error {
	tb.Helper()
	select {
	case <-p.closed:
		return p.closeErr
	case <-time.After(Timeout):
		tb.Fatalf("%s: no OnClose within %v", p.Remote, Timeout)
		return nil
	}
}

// Echo is a Handlers.Data that writes back what it reads and flushes.
func Echo(p *Peer, data []byte) error {
	if _, err := p.Write(data); err != nil {
		return err
	}
	return p.Flush()
}
