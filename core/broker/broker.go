// Package broker is PubSubX's protocol core: the MQTT 3.1.1 and 5.0 state
// machine of each connection, sessions with their grace period, routing and
// fan-out, retained messages, wills and the broker's bounds and statistics.
//
// The broker sees connections only through the engines contract: Open is the
// open function an engine's Serve takes, and every write goes through
// engines.Conn. It never blocks on the network.
//
// Concurrency: OnData calls of different connections run in parallel (one at
// a time per connection). Shared state is guarded as follows: the
// subscription trie and retained tree lock themselves; the session table and
// the connection set by Broker.mu; each session's queue, in-flight table and
// subscriptions by that session's mutex. The fan-out of a QoS 0 message to a
// subscriber that is online and has nothing queued takes no session lock: it
// reads the session's attached connection atomically and writes to it.
//
// Fan-out (see fanout.go): the publisher's handler matches the topic once,
// encodes the outgoing PUBLISH once per protocol variant, copies it into each
// subscriber's Conn, and flushes every touched Conn once at the end of the
// read batch (nats-server's "pending clients to flush").
package broker

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pubsubx/pubsubx/core/logx"
	"github.com/pubsubx/pubsubx/core/session"
	"github.com/pubsubx/pubsubx/core/topics"
	"github.com/pubsubx/pubsubx/engines"
)

// Broker routes messages between the clients of every engine it is opened by.
// Create it with New, pass Open to an engine's Serve, and call Close when
// done. All methods are safe for concurrent use.
type Broker struct {
	cfg Config
	log *logx.Logger

	subs     *topics.Trie[*clientSession]
	retained *topics.Tree[*session.Message]

	mu       sync.Mutex
	sessions map[string]*clientSession
	conns    map[*conn]struct{}
	closing  bool

	backlogMu sync.Mutex
	backlog   map[*clientSession]struct{} // online sessions with deliveries waiting

	workspaces sync.Pool
	clock      atomic.Int64 // coarse time, unix milliseconds, for timeouts
	lastDrop   atomic.Int64 // unix nanoseconds of the last WARN about dropped messages
	// queuedTotal is the memory held by every session's queue, as
	// holdQueued and releaseQueued account it: MaxQueuedTotalBytes bounds it.
	queuedTotal atomic.Int64
	stats       counters

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

// New returns a broker configured by cfg (zero fields take defaults) with its
// housekeeping goroutine running (keep-alive, connect timeouts, retries of
// backlogged sessions). Close stops it.
func New(cfg Config) *Broker {
	cfg = cfg.WithDefaults()
	b := &Broker{
		cfg:      cfg,
		log:      cfg.Log,
		subs:     topics.New[*clientSession](0),
		retained: topics.NewTree[*session.Message](),
		sessions: make(map[string]*clientSession),
		conns:    make(map[*conn]struct{}),
		backlog:  make(map[*clientSession]struct{}),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	b.workspaces.New = func() any { return newWorkspace(b) }
	b.clock.Store(time.Now().UnixMilli())
	go b.housekeeping()
	return b
}

// Config returns the broker's configuration with defaults applied.
func (b *Broker) Config() Config { return b.cfg }

// Open is the engine's open function: it returns the Handler of a new
// connection.
func (b *Broker) Open(ec engines.Conn) engines.Handler {
	c := &conn{b: b, ec: ec}
	c.since.Store(b.clock.Load())
	c.parser.MaxPacketSize = b.cfg.MaxPacketSize
	b.mu.Lock()
	c.overLimit = len(b.conns) >= b.cfg.MaxConnections || b.closing
	b.conns[c] = struct{}{}
	b.mu.Unlock()
	b.stats.connectionsTotal.Add(1)
	return c
}

// Close tells every connected client that the server is shutting down (MQTT 5:
// DISCONNECT 0x8B), closes their connections and stops housekeeping. Sessions
// are not kept across a restart. The engine's Shutdown should follow, to flush
// and release sockets; ctx bounds nothing here but is accepted for symmetry
// and future use.
func (b *Broker) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closing = true
	open := make([]*conn, 0, len(b.conns))
	for c := range b.conns {
		open = append(open, c)
	}
	b.mu.Unlock()
	for _, c := range open {
		c.shutdown()
	}
	b.stopOnce.Do(func() { close(b.stop) })
	select {
	case <-b.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func (b *Broker) removeConn(c *conn) {
	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
}

// housekeeping runs until Close: every 10 ms it advances the coarse clock
// and retries sessions whose deliveries are backlogged; every 250 ms it
// closes connections past their keep-alive or connect timeout.
func (b *Broker) housekeeping() {
	defer close(b.done)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var lastScan int64
	for {
		select {
		case <-b.stop:
			return
		case now := <-tick.C:
			ms := now.UnixMilli()
			b.clock.Store(ms)
			b.retryBacklog()
			if ms-lastScan >= 250 {
				lastScan = ms
				b.scanTimeouts(ms)
			}
		}
	}
}

// scanTimeouts closes connections whose keep-alive expired or that sent no
// CONNECT within ConnectTimeout. now is the broker clock in milliseconds.
func (b *Broker) scanTimeouts(now int64) {
	connectLimit := b.cfg.ConnectTimeout.Milliseconds()
	var expired []*conn
	b.mu.Lock()
	for c := range b.conns {
		if c.timedOut(now, connectLimit) {
			expired = append(expired, c)
		}
	}
	b.mu.Unlock()
	for _, c := range expired {
		c.closeTimedOut()
	}
}

// dropWarnDue rate-limits the WARN lines about dropped messages to one a
// second for the whole broker, so a flood of drops cannot flood the log.
func (b *Broker) dropWarnDue() bool {
	now, last := time.Now().UnixNano(), b.lastDrop.Load()
	return now-last >= int64(time.Second) && b.lastDrop.CompareAndSwap(last, now)
}

// markBacklogged asks housekeeping to retry s's queued deliveries.
func (b *Broker) markBacklogged(s *clientSession) {
	b.backlogMu.Lock()
	b.backlog[s] = struct{}{}
	b.backlogMu.Unlock()
}

// retryBacklog drains what it can of each backlogged session; sessions still
// backlogged stay in the set.
func (b *Broker) retryBacklog() {
	b.backlogMu.Lock()
	if len(b.backlog) == 0 {
		b.backlogMu.Unlock()
		return
	}
	pending := make([]*clientSession, 0, len(b.backlog))
	for s := range b.backlog {
		pending = append(pending, s)
	}
	clear(b.backlog)
	b.backlogMu.Unlock()

	ws := b.getWorkspace()
	for _, s := range pending {
		s.mu.Lock()
		if s.drainLocked(ws) {
			b.markBacklogged(s)
		}
		s.mu.Unlock()
	}
	b.putWorkspace(ws)
}

func (b *Broker) getWorkspace() *workspace { return b.workspaces.Get().(*workspace) }

// putWorkspace flushes the connections the workspace touched, folds its
// counters into the broker's and returns it to the pool.
func (b *Broker) putWorkspace(ws *workspace) {
	ws.finishBatch()
	b.workspaces.Put(ws)
}
