//go:build linux

package netpoll

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	cloudwego "github.com/cloudwego/netpoll"

	"github.com/pubsubx/pubsubx/engines"
)

// Name is the engine's name in the engine list (-engine netpoll).
const Name = "netpoll"

// Defaults of the timeouts in Settings.
const (
	// DefaultWriteTimeout is how long one netpoll Flush (up to 256 KiB) may
	// wait for a peer that does not read before the connection is closed
	// with ErrWriteTimeout, as nats-server's write_deadline does.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultCloseTimeout is how long Close lets the queued bytes drain to a
	// peer before it closes the connection anyway.
	DefaultCloseTimeout = 2 * time.Second
)

var errServeTwice = errors.New("netpoll: Serve called twice")

// Settings is what one Engine runs with.
type Settings struct {
	// Process is netpoll's process-wide configuration in effect.
	Process ProcessConfig `json:"process"`
	// Requested is the process-wide configuration this engine's Options ask
	// for. It differs from Process when an earlier engine in the process
	// configured netpoll first; netpoll cannot be reconfigured once its
	// pollers run, so the earlier configuration stays.
	Requested ProcessConfig `json:"requested"`
	// ReadBufferSize bounds the bytes of one OnData call.
	ReadBufferSize int `json:"read_buffer_size"`
	// MaxOutboundBytes bounds each connection's queued and unwritten bytes.
	MaxOutboundBytes int `json:"max_outbound_bytes"`
	// MaxInputBacklog bounds each connection's read and unhandled bytes:
	// netpoll keeps reading while the handler works (see the package doc).
	MaxInputBacklog int `json:"max_input_backlog"`
	// WriteTimeout is netpoll's write timeout; see DefaultWriteTimeout.
	WriteTimeout time.Duration `json:"write_timeout"`
	// CloseTimeout bounds the drain of Close; see DefaultCloseTimeout.
	CloseTimeout time.Duration `json:"close_timeout"`
}

// Engine serves connections with cloudwego/netpoll. Its methods are safe for
// concurrent use; Serve may be called once.
type Engine struct {
	settings Settings
	stopping atomic.Bool // Shutdown began: accepted sockets are closed at once

	mu        sync.Mutex
	open      func(engines.Conn) engines.Handler
	loop      cloudwego.EventLoop // nil until Serve
	ln        *listener
	serveDone chan struct{} // closed when netpoll's Serve returned
	conns     map[*conn]struct{}
	drained   chan struct{} // made by Shutdown, closed once conns is empty
	isDrained bool
}

var _ engines.Engine = (*Engine)(nil)

// NewEngine builds an engine from o (zero fields take the defaults of package
// engines). The first NewEngine in the process configures netpoll's pollers
// and buffers; later ones reuse that configuration (see Settings).
func NewEngine(o engines.Options) (engines.Engine, error) {
	return newEngine(o, DefaultWriteTimeout, DefaultCloseTimeout)
}

func newEngine(o engines.Options, writeTimeout, closeTimeout time.Duration) (*Engine, error) {
	o = o.WithDefaults()
	requested := processConfigFor(o)
	applied, err := configure(requested)
	if err != nil {
		return nil, err
	}
	return &Engine{
		settings: Settings{
			Process:          applied,
			Requested:        requested,
			ReadBufferSize:   o.ReadBufferSize,
			MaxOutboundBytes: o.MaxOutboundBytes,
			MaxInputBacklog:  o.MaxInputBacklog,
			WriteTimeout:     writeTimeout,
			CloseTimeout:     closeTimeout,
		},
		serveDone: make(chan struct{}),
		conns:     make(map[*conn]struct{}),
	}, nil
}

// Settings returns what the engine runs with.
func (e *Engine) Settings() Settings { return e.settings }

// Serve runs a netpoll EventLoop on ln until Shutdown (it then returns
// ErrServerClosed) or until ln fails or is closed by someone else (it then
// returns an error saying so; connections stay open until Shutdown). The
// connections ln accepts must have a file descriptor (as those of
// *net.TCPListener and *net.UnixListener do). Shutdown closes ln.
func (e *Engine) Serve(ln net.Listener, open func(engines.Conn) engines.Handler) error {
	e.mu.Lock()
	switch {
	case e.stopping.Load():
		e.mu.Unlock()
		return engines.ErrServerClosed
	case e.loop != nil:
		e.mu.Unlock()
		return errServeTwice
	}
	l, err := newListener(ln, e.stopping.Load)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	loop, err := cloudwego.NewEventLoop(e.onRequest,
		cloudwego.WithOnPrepare(e.onPrepare),
		cloudwego.WithOnConnect(e.onConnect),
		cloudwego.WithWriteTimeout(e.settings.WriteTimeout))
	if err != nil {
		e.mu.Unlock()
		l.Close()
		return err
	}
	e.open, e.loop, e.ln = open, loop, l
	e.mu.Unlock()

	err = loop.Serve(l)
	close(e.serveDone)
	if e.stopping.Load() {
		return engines.ErrServerClosed
	}
	if ferr := l.failed(); ferr != nil {
		return ferr // netpoll only says "listener close"
	}
	return err
}

// Shutdown stops accepting (sockets accepted from now on are closed at once),
// closes every connection after its queued bytes drained, waits for their
// OnClose calls, then stops netpoll's EventLoop, which closes the listener.
// When ctx ends first, it closes the remaining connections without waiting
// for their peers and returns ctx.Err(); their OnClose calls follow.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	e.stopping.Store(true)
	if e.drained == nil {
		e.drained = make(chan struct{})
		e.checkDrained()
	}
	open := make([]*conn, 0, len(e.conns))
	for c := range e.conns {
		open = append(open, c)
	}
	drained := e.drained
	e.mu.Unlock()

	for _, c := range open {
		c.closeWith(nil, false) // ErrClosed for those closing already
	}
	var err error
	select {
	case <-drained:
	case <-ctx.Done():
		err = ctx.Err()
		for _, c := range open {
			c.abort()
		}
	}
	e.stopLoop(ctx)
	return err
}

// stopLoop shuts netpoll's EventLoop down: its Serve returns and it closes
// the listener. netpoll's EventLoop.Shutdown does nothing if it comes before
// Serve registered its server (and Serve would then never return), so it
// waits for that first: netpoll calls the listener's Fd under the lock that
// EventLoop.Shutdown takes.
func (e *Engine) stopLoop(ctx context.Context) {
	e.mu.Lock()
	loop, l := e.loop, e.ln
	e.mu.Unlock()
	if loop == nil {
		return // no Serve yet; a later one returns ErrServerClosed
	}
	select {
	case <-l.registered:
	case <-e.serveDone:
	}
	// Every connection is closed or closing: netpoll's wait for its own
	// idea of idle connections ends at once, or with ctx.
	loop.Shutdown(ctx)
}

// checkDrained closes drained once no connection is left after Shutdown
// began. The caller holds mu.
func (e *Engine) checkDrained() {
	if e.drained != nil && !e.isDrained && len(e.conns) == 0 {
		e.isDrained = true
		close(e.drained)
	}
}

// finish runs a closed connection's OnClose (h is nil for a connection
// refused at open) and forgets the connection.
func (e *Engine) finish(c *conn, h engines.Handler, err error) {
	if h != nil {
		h.OnClose(err)
	}
	e.mu.Lock()
	delete(e.conns, c)
	e.checkDrained()
	e.mu.Unlock()
}

// connKey keys a connection's *conn in the context netpoll passes to its
// callbacks.
type connKey struct{}

// onPrepare runs on a poller goroutine for each accepted connection, before
// netpoll registers it: netpoll calls nothing else of this connection before
// it returns. It opens the connection (calls the core's open), registers the
// close callback, and returns the context of the other callbacks. During
// Shutdown the connection is refused: not opened, closed by onConnect.
func (e *Engine) onPrepare(np cloudwego.Connection) context.Context {
	c := newConn(e, np)
	e.mu.Lock()
	open := e.open
	admitted := !e.stopping.Load()
	if admitted {
		e.conns[c] = struct{}{}
	}
	e.mu.Unlock()

	var h engines.Handler
	if admitted {
		h = open(c)
	}
	c.mu.Lock()
	c.handler = h
	if h == nil {
		c.closing = true // closed once registered, without OnClose
	}
	c.mu.Unlock()
	if admitted && h == nil {
		e.finish(c, nil, nil)
	}
	np.AddCloseCallback(c.onNetpollClose)
	return context.WithValue(context.Background(), connKey{}, c)
}

// onConnect runs in netpoll's runner once the connection is registered with
// its poller, before any OnRequest. From now on a flusher may use the Writer:
// it starts one if Flush or Close came earlier.
func (e *Engine) onConnect(ctx context.Context, _ cloudwego.Connection) context.Context {
	c := ctx.Value(connKey{}).(*conn)
	c.mu.Lock()
	c.ready = true
	start := (c.flushWanted || c.closing) && c.claimFlusher()
	c.mu.Unlock()
	if start {
		go c.flush()
	}
	return ctx
}

// onRequest runs in netpoll's runner when the connection has input, never
// twice at once for one connection, and netpoll runs it again while input is
// left. It consumes all of it, as netpoll requires: in slices of at most
// ReadBufferSize bytes, each passed to OnData and released when OnData
// returned (the slice is netpoll's buffer). It never waits for more input; a
// partial packet stays with the core's parser. Once the connection is closing,
// input is discarded.
func (e *Engine) onRequest(ctx context.Context, np cloudwego.Connection) error {
	c := ctx.Value(connKey{}).(*conn)
	r := np.Reader()
	for r.Len() > 0 {
		h := c.receiver()
		if h == nil {
			r.Skip(r.Len())
			break
		}
		if n := r.Len(); n > e.settings.MaxInputBacklog {
			c.closeWith(fmt.Errorf("%w: %d bytes read and not yet handled", engines.ErrInputBacklog, n), true)
			r.Skip(n)
			break
		}
		p, err := r.Next(min(r.Len(), e.settings.ReadBufferSize))
		if err == nil {
			err = h.OnData(p)
		}
		r.Release()
		if err != nil {
			c.closeWith(err, true)
		}
	}
	return r.Release()
}
