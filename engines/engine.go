// Package engines defines the seam between PubSubX's protocol core and the
// I/O engines that move its bytes.
//
// An engine owns sockets: it accepts connections from a listener, reads from
// them, and writes what the core queues. It knows nothing of MQTT. The core
// owns the protocol: for every accepted connection it returns a Handler, and it
// writes to the engine's Conn. Only cmd/ (and tests) wire an engine to the core;
// the list of engines lives in package engines/registry.
//
// Callback order, per connection: the open function passed to Serve is called
// once, before any other callback; then OnData zero or more times, never
// concurrently with itself; then OnClose exactly once, last. Callbacks of
// different connections may run in parallel. Conn methods are safe to call from
// any goroutine at any time, before, during and after the callbacks; after the
// connection is closed they return ErrClosed instead of doing anything.
package engines

import (
	"context"
	"errors"
	"net"
)

// Sentinel errors shared by every engine.
var (
	// ErrClosed is returned by Conn methods once the connection is closed.
	ErrClosed = errors.New("engines: connection closed")
	// ErrOutboundFull is returned by Conn.Write when accepting p would take the
	// connection's queued outbound bytes past Options.MaxOutboundBytes. Nothing
	// of p is queued; the caller decides whether to drop or disconnect.
	ErrOutboundFull = errors.New("engines: outbound queue full")
	// ErrInputBacklog ends a connection (OnClose's argument, wrapped) whose
	// input read but not yet handled passed Options.MaxInputBacklog. Only an
	// engine that cannot stop reading a socket while its handler is busy
	// (netpoll) needs it: the others stop reading, and TCP flow control
	// slows the peer down instead.
	ErrInputBacklog = errors.New("engines: input backlog over its bound")
	// ErrServerClosed is returned by Serve after Shutdown was called.
	ErrServerClosed = errors.New("engines: server closed")
)

// Conn is what an engine gives the core for one connection.
//
// All methods are safe for concurrent use from any goroutine and never block on
// the network.
type Conn interface {
	// Write copies p into the connection's outbound queue and returns len(p),
	// or returns ErrOutboundFull (nothing queued) or ErrClosed. It does not
	// start a write to the socket by itself: call Flush when a batch is done.
	// p may be reused by the caller as soon as Write returns.
	Write(p []byte) (int, error)
	// Flush schedules the queued bytes for the socket. Many Flush calls before
	// the engine gets to the socket coalesce into one write (writev) syscall.
	Flush() error
	// Close flushes what is queued as far as the socket takes it without
	// blocking, then closes the connection. OnClose follows, once.
	Close() error
	// RemoteAddr is the peer's address; it stays valid after Close.
	RemoteAddr() net.Addr
}

// Handler is what the core gives an engine for one connection.
type Handler interface {
	// OnData is called with bytes read from the connection. p is valid only
	// until OnData returns (the engine reuses its read buffer). Calls for one
	// connection never overlap. A non-nil error closes the connection and
	// becomes OnClose's argument.
	OnData(p []byte) error
	// OnClose is called exactly once, after the last OnData, when the
	// connection is closed by either side. err is nil after a local Close or an
	// orderly shutdown, io.EOF when the peer closed, or the read/write/OnData
	// error that ended the connection.
	OnClose(err error)
}

// Engine serves connections accepted from a listener.
type Engine interface {
	// Serve accepts connections from ln until Shutdown is called or ln fails,
	// and calls open for each one; open returns the connection's Handler. Serve
	// blocks; it returns ErrServerClosed after Shutdown. Serve may be called
	// once per Engine.
	Serve(ln net.Listener, open func(Conn) Handler) error
	// Shutdown stops accepting, flushes what each connection has queued as far
	// as its peer takes it before ctx is done, closes every connection (each
	// gets its OnClose) and releases the engine's resources. It returns when
	// all OnClose callbacks have returned, or ctx.Err() if ctx ends first.
	Shutdown(ctx context.Context) error
}

// Options configures an engine. Zero values mean the engine's defaults.
type Options struct {
	// Loops is the number of event loops (epoll, netpoll); 0 means one per
	// core available to the process (runtime.GOMAXPROCS(0)).
	Loops int
	// ReadBufferSize is the size of each read; default 64 KiB. Larger batches
	// make fan-out cheaper per message, too large ones make it lumpy.
	ReadBufferSize int
	// MaxOutboundBytes bounds the bytes queued for one connection and not yet
	// taken by its socket; default 8 MiB. Write beyond it fails with
	// ErrOutboundFull.
	MaxOutboundBytes int
	// MaxInputBacklog bounds the bytes read from one connection and not yet
	// handled, where the engine cannot stop reading (see ErrInputBacklog);
	// default 16 MiB. It must exceed the largest packet the core accepts.
	MaxInputBacklog int
}

// Defaults for Options' zero values.
const (
	DefaultReadBufferSize   = 64 << 10
	DefaultMaxOutboundBytes = 8 << 20
	DefaultMaxInputBacklog  = 16 << 20
)

// WithDefaults returns o with its zero fields set to the defaults; Loops stays
// 0 (each engine decides what one per core means for it).
func (o Options) WithDefaults() Options {
	if o.ReadBufferSize <= 0 {
		o.ReadBufferSize = DefaultReadBufferSize
	}
	if o.MaxOutboundBytes <= 0 {
		o.MaxOutboundBytes = DefaultMaxOutboundBytes
	}
	if o.MaxInputBacklog <= 0 {
		o.MaxInputBacklog = DefaultMaxInputBacklog
	}
	return o
}

// Info names an engine and builds it.
type Info struct {
	// Name is what -engine selects, e.g. "epoll".
	Name string
	// New builds an engine; it fails when the engine cannot run here.
	New func(Options) (Engine, error)
}
