package client

import (
	"context"
	"crypto/tls"
	"fmt"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

// Client is one MQTT connection. Create it with Dial; end it with
// Disconnect (graceful) or Close (abrupt). All methods are safe for
// concurrent use; the Handler runs on the client's reader goroutine.
type Client struct {
	opts    Options
	version mqtt.Version
	conn    net.Conn
	start   time.Time // base of the monotonic times below

	// Set by the handshake, read-only afterwards.
	connack     mqtt.Connack // decoded from connackBody, which it aliases
	connackBody []byte
	clientID    string
	keepAlive   time.Duration
	limits      serverLimits

	// Guarded by mu: the outbound buffer, the requests awaiting an answer
	// and the client's state. See publish.go for the writer.
	mu       sync.Mutex
	flushed  sync.Cond // signalled when a flush ends; uses mu
	out      []byte    // encoded packets not yet written
	spare    []byte    // the buffer being written, reused as out
	flushing bool      // a goroutine is writing; it loops until out is empty
	appended uint64    // bytes ever appended to out
	written  uint64    // bytes ever taken from out by a write
	writeErr error     // the socket write failed: nothing more can be sent
	pending  map[uint16]*Pending
	nextID   uint16
	closing  bool  // Disconnect, Close or a failure began: no new operations
	cause    error // why the client ends; set once, with closing

	inflight chan struct{} // one token per outbound QoS 1/2 message [MQTT-4.9.0-1]
	lastRecv atomic.Int64  // monotonic ns since start of the last read
	done     chan struct{} // closed when the reader has finished
	pingDone chan struct{} // closed when the keep-alive goroutine has finished

	rd reader // reader goroutine state (receive.go)
}

// serverLimits are the server's CONNACK bounds that the client enforces.
type serverLimits struct {
	receiveMaximum    uint16 // 65535 when absent
	maximumPacketSize uint32 // 0: no limit
	topicAliasMaximum uint16
	maximumQoS        mqtt.QoS // 2 when absent
	retainAvailable   bool
}

// Dial connects to addr ("host:port") and performs the MQTT handshake:
// CONNECT, then CONNACK. ctx bounds the dial and the handshake; it does not
// affect the connection once Dial returns. A CONNACK refusing the
// connection returns a *ReasonError with its code. Messages the server
// sends right after CONNACK (a resumed session's queue) go to
// opts.Handler, which may be called before Dial returns.
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	conn, err := dialConn(ctx, addr, &opts)
	if err != nil {
		return nil, err
	}
	c := &Client{
		opts:     opts,
		version:  opts.Version,
		conn:     conn,
		start:    time.Now(),
		pending:  make(map[uint16]*Pending),
		done:     make(chan struct{}),
		pingDone: make(chan struct{}),
	}
	c.flushed.L = &c.mu
	c.rd.init(c)
	if err := c.handshake(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	go c.readLoop()
	if c.keepAlive > 0 {
		go c.keepAliveLoop(c.keepAlive)
	} else {
		close(c.pingDone)
	}
	return c, nil
}

// dialConn opens the TCP (and TLS) connection.
func dialConn(ctx context.Context, addr string, o *Options) (net.Conn, error) {
	d := o.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("client: dial %s: %w", addr, err)
	}
	if o.TLSConfig == nil {
		return conn, nil
	}
	cfg := o.TLSConfig
	if cfg.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			cfg = cfg.Clone()
			cfg.ServerName = host
		}
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("client: TLS handshake with %s: %w", addr, err)
	}
	return tc, nil
}

// handshake sends CONNECT and reads CONNACK. Bytes read after the CONNACK
// stay in the reader's parser for readLoop.
func (c *Client) handshake(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	err := c.exchangeConnect()
	if stopped := stop(); ctx.Err() != nil && (err != nil || !stopped) {
		return fmt.Errorf("client: connect: %w", ctx.Err())
	}
	c.conn.SetDeadline(time.Time{})
	return err
}

func (c *Client) exchangeConnect() error {
	if _, err := c.conn.Write(mqtt.AppendConnect(nil, c.opts.connectPacket())); err != nil {
		return fmt.Errorf("client: sending CONNECT: %w", err)
	}
	rd := &c.rd
	for {
		h, body, ok, err := rd.parser.Next()
		if err != nil {
			return fmt.Errorf("client: reading CONNACK: %w", err)
		}
		if ok {
			if h.Type != mqtt.CONNACK {
				return fmt.Errorf("client: expected CONNACK, got %s", h.Type)
			}
			return c.acceptConnack(h, body)
		}
		n, err := c.conn.Read(rd.buf)
		if n > 0 {
			now := time.Now()
			c.lastRecv.Store(int64(now.Sub(c.start)))
			rd.msg.ReceivedAt = now
			rd.parser.Feed(rd.buf[:n])
			continue
		}
		if err != nil {
			return fmt.Errorf("client: no CONNACK: %w", lost(err))
		}
	}
}

// acceptConnack keeps an owned copy of the CONNACK and applies it.
func (c *Client) acceptConnack(h mqtt.FixedHeader, body []byte) error {
	if err := mqtt.CheckFlags(h.Type, h.Flags, c.version); err != nil {
		return fmt.Errorf("client: CONNACK: %w", err)
	}
	c.connackBody = append([]byte(nil), body...)
	ack := &c.connack
	if err := mqtt.DecodeConnack(c.version, c.connackBody, ack); err != nil {
		return fmt.Errorf("client: CONNACK: %w", err)
	}
	if ack.Reason != mqtt.Success {
		return &ReasonError{Packet: mqtt.CONNACK, Code: ack.Reason, Version: c.version,
			ReasonString: string(ack.Props.ReasonString)}
	}
	p := &ack.Props
	c.clientID = c.opts.ClientID
	if p.AssignedClientID != nil {
		c.clientID = string(p.AssignedClientID) // [MQTT-3.2.2-16]
	}
	c.keepAlive = time.Duration(seconds(c.opts.KeepAlive, math.MaxUint16)) * time.Second
	if p.Has(mqtt.PropServerKeepAlive) {
		c.keepAlive = time.Duration(p.ServerKeepAlive) * time.Second // [MQTT-3.2.2-21]
	}
	c.limits = serverLimits{receiveMaximum: math.MaxUint16, maximumQoS: 2, retainAvailable: true}
	if p.Has(mqtt.PropReceiveMaximum) {
		c.limits.receiveMaximum = p.ReceiveMaximum
	}
	if p.Has(mqtt.PropMaximumPacketSize) {
		c.limits.maximumPacketSize = p.MaximumPacketSize
	}
	if p.Has(mqtt.PropMaximumQoS) {
		c.limits.maximumQoS = mqtt.QoS(p.MaximumQoS)
	}
	if p.Has(mqtt.PropRetainAvailable) {
		c.limits.retainAvailable = p.RetainAvailable == 1
	}
	c.limits.topicAliasMaximum = p.TopicAliasMaximum
	c.inflight = make(chan struct{}, c.limits.receiveMaximum)
	return nil
}

// ClientID returns the client identifier in use: the one asked for, or the
// one the server assigned.
func (c *Client) ClientID() string { return c.clientID }

// Version returns the protocol version of the connection.
func (c *Client) Version() mqtt.Version { return c.version }

// SessionPresent reports whether the server resumed a session it held for
// this client identifier (CONNACK's session present flag).
func (c *Client) SessionPresent() bool { return c.connack.SessionPresent }

// Connack returns the server's CONNACK: its properties tell the server's
// maximums (Receive Maximum, Maximum Packet Size, Topic Alias Maximum,
// Maximum QoS), the Server Keep Alive, the granted Session Expiry Interval
// and an Assigned Client Identifier. It is owned by the Client, valid for
// the Client's life, and must not be modified.
func (c *Client) Connack() *mqtt.Connack { return &c.connack }

// KeepAlive returns the keep-alive in force: the one asked for, or the
// server's Server Keep Alive. 0 means none.
func (c *Client) KeepAlive() time.Duration { return c.keepAlive }

// RemoteAddr returns the server's address.
func (c *Client) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// LocalAddr returns the client's address.
func (c *Client) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// Done returns a channel closed when the connection has ended, whoever
// ended it; Err then tells why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns nil while the connection is up; afterwards ErrClosed if this
// side closed it, or an error matching ErrConnectionLost (a *ReasonError
// for a server DISCONNECT).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// DisconnectOptions adjust a graceful disconnection.
type DisconnectOptions struct {
	// EndSession asks the server to discard the session now: MQTT 5 Session
	// Expiry Interval 0 in DISCONNECT [MQTT-3.14.2.2.2]. Without it, the
	// session expiry of the CONNECT applies. MQTT 3.1.1 cannot change it.
	EndSession bool
	// SessionExpiry, when positive and EndSession is false, replaces the
	// session expiry (MQTT 5). It must not be set when the CONNECT asked 0:
	// the server would treat it as a protocol error [MQTT-3.14.2-2].
	SessionExpiry time.Duration
	// PublishWill asks the server to publish the will anyway (MQTT 5 reason
	// 0x04); by default a DISCONNECT discards it [MQTT-3.14.4-3].
	PublishWill bool
}

// DisconnectLinger bounds how long DisconnectWith waits for the server to
// close the connection after DISCONNECT.
const DisconnectLinger = 5 * time.Second

// Disconnect ends the connection gracefully, keeping the session for the
// expiry set at connect. See DisconnectWith.
func (c *Client) Disconnect(ctx context.Context) error {
	return c.DisconnectWith(ctx, DisconnectOptions{})
}

// DisconnectWith sends DISCONNECT after what is buffered, waits for the
// server to close the connection (so that the server has read the
// DISCONNECT when it returns), and releases the client's goroutines.
// Operations still waiting for an answer fail with ErrClosed. ctx bounds
// the wait, and so does DisconnectLinger: when either ends, the connection
// is closed at once. It returns ErrClosed if the client was already closed,
// the loss error if the connection was lost before, or ctx's error. It must
// not be called from the Handler.
func (c *Client) DisconnectWith(ctx context.Context, o DisconnectOptions) error {
	c.mu.Lock()
	if c.closing {
		err := c.cause
		c.mu.Unlock()
		c.awaitEnd()
		return err
	}
	c.closing, c.cause = true, ErrClosed
	d := mqtt.Disconnect{}
	if o.PublishWill {
		d.Reason = mqtt.DisconnectWithWill
	}
	if o.EndSession || o.SessionExpiry > 0 {
		d.Props.SessionExpiry = 0
		if !o.EndSession {
			d.Props.SessionExpiry = uint32(seconds(o.SessionExpiry, math.MaxUint32))
		}
		d.Props.Set(mqtt.PropSessionExpiry)
	}
	before := len(c.out)
	c.out = mqtt.AppendDisconnect(c.out, c.version, &d)
	mark := c.grewLocked(before)
	c.mu.Unlock()

	stop := context.AfterFunc(ctx, func() { c.conn.Close() })
	defer stop()
	linger := time.AfterFunc(DisconnectLinger, func() { c.conn.Close() })
	defer linger.Stop()
	err := c.flushTo(mark)
	if err == nil {
		// Half-close: the server reads the DISCONNECT, then our FIN, and
		// closes its side, which ends the reader [MQTT-3.14.4-1].
		if cw, ok := c.conn.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		} else {
			c.conn.Close()
		}
	} else {
		c.conn.Close()
	}
	c.awaitEnd()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// Close ends the connection abruptly, without DISCONNECT: the server treats
// the client as lost (its will is published, its session kept for its
// expiry). Operations still waiting fail with ErrClosed. Close waits for the
// client's goroutines to finish, so it must not be called from the Handler.
// Closing a closed client does nothing.
func (c *Client) Close() error {
	c.fail(ErrClosed)
	c.awaitEnd()
	return nil
}

// awaitEnd waits until the reader and keep-alive goroutines have finished.
func (c *Client) awaitEnd() {
	<-c.done
	<-c.pingDone
}

// fail ends the client because of err (the first cause wins) and closes
// the socket, which ends the reader.
func (c *Client) fail(err error) {
	c.mu.Lock()
	c.failLocked(err)
	c.mu.Unlock()
}

func (c *Client) failLocked(err error) {
	if !c.closing {
		c.closing, c.cause = true, err
	}
	c.conn.Close()
}

// finish runs when the reader stops: it records why (unless a cause is
// known), fails every operation waiting for an answer, and closes done.
func (c *Client) finish(readErr error) {
	c.mu.Lock()
	c.failLocked(lost(readErr))
	cause := c.cause
	pending := c.pending
	c.pending = nil
	c.flushed.Broadcast()
	c.mu.Unlock()
	for _, p := range pending {
		p.complete(cause)
	}
	close(c.done)
}

// grewLocked accounts for the bytes appended to out since before and
// returns the mark a flush must reach to have written them.
func (c *Client) grewLocked(before int) uint64 {
	c.appended += uint64(len(c.out) - before)
	return c.appended
}
