package broker

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/pubsubx/pubsubx/core/mqtt"
	"github.com/pubsubx/pubsubx/engines"
)

// Connection states.
const (
	stateAwaitConnect uint32 = iota // accepted, no CONNECT yet
	stateConnected                  // CONNECT accepted, session attached
	stateClosing                    // a close was decided; nothing more is read
)

// errClientDisconnected ends a connection after the client's DISCONNECT.
var errClientDisconnected = errors.New("broker: client disconnected")

// errClosedDuringConnect ends a connection that closeWith closed (takeover,
// shutdown, timeout) while its CONNECT was being accepted: closeWith logged
// why and left the DISCONNECT and the close to handleConnect.
var errClosedDuringConnect = errors.New("broker: connection closed while its CONNECT was accepted")

// endNote is why the broker ended a connection, and the reason code it gave.
type endNote struct {
	why  string
	code mqtt.ReasonCode
}

// conn is the broker's state for one network connection: the engines.Handler
// the engine calls. OnData runs on one goroutine at a time; fields below
// marked "OnData only" are touched only there (and in OnClose, which follows
// the last OnData). Other goroutines see the connection through its session
// and use only ec, version, maxPacket and the atomics.
type conn struct {
	b  *Broker
	ec engines.Conn

	parser    mqtt.Parser                   // OnData only
	sess      atomic.Pointer[clientSession] // set by CONNECT
	aliasIn   *[]string                     // MQTT 5 inbound topic aliases (index alias-1), from the first; OnData only
	aliasOut  *outboundAliases              // set by CONNECT when the client accepts aliases; guarded by the session's mu
	endReason atomic.Pointer[endNote]
	flushMark atomic.Uint64 // see workspace.markFlush
	// since is the broker clock (ms) at accept, then of the last read once
	// connected: the connect timeout and the keep-alive run from it.
	since atomic.Int64

	state     atomic.Uint32 // stateAwaitConnect, stateConnected, stateClosing
	graceful  atomic.Bool   // the client sent DISCONNECT; set before close
	maxPacket uint32        // client's Maximum Packet Size; 0 = no limit
	keepAlive uint16        // seconds; 0 disables the check
	version   mqtt.Version  // set by CONNECT, before the session can see c
	// expiryWasZero: the MQTT 5 CONNECT asked session expiry 0.
	expiryWasZero bool
	overLimit     bool // accepted beyond MaxConnections: CONNECT is refused
}

// identity is what the ACL checks: who the client is. Immutable.
type identity struct {
	clientID    string
	username    string
	hasUsername bool
}

// OnData parses and handles every complete packet in p.
func (c *conn) OnData(p []byte) error {
	state := c.state.Load()
	if state == stateClosing {
		return nil // a close is under way; ignore what the client still sends
	}
	b := c.b
	if state == stateConnected {
		c.since.Store(b.clock.Load())
	}
	ws := b.getWorkspace()
	defer b.putWorkspace(ws)
	if state == stateAwaitConnect && c.parser.Buffered() == 0 && len(p) > 0 {
		// The first byte names the first packet: anything but CONNECT is
		// refused now, not after waiting for a body that may never come
		// (an HTTP request, a port scanner). Type 0 is left to the parser.
		if t := mqtt.Type(p[0] >> 4); t != 0 && t != mqtt.CONNECT {
			return c.fail(ws, errProtocol(fmt.Sprintf("%s before CONNECT", t))) // [MQTT-3.1.0-1]
		}
	}
	c.parser.Feed(p)
	for {
		h, body, ok, err := c.parser.Next()
		if err == nil && ok {
			err = c.handle(ws, h, body)
		}
		if err != nil {
			return c.fail(ws, err)
		}
		if !ok {
			return nil
		}
	}
}

// handle dispatches one packet.
func (c *conn) handle(ws *workspace, h mqtt.FixedHeader, body []byte) error {
	if err := mqtt.CheckFlags(h.Type, h.Flags, c.version); err != nil {
		return err
	}
	if c.state.Load() == stateAwaitConnect {
		if h.Type != mqtt.CONNECT {
			return errProtocol(fmt.Sprintf("%s before CONNECT", h.Type)) // [MQTT-3.1.0-1]
		}
		return c.handleConnect(ws, body)
	}
	if h.Type != mqtt.PUBLISH {
		ws.endRun() // keep every other packet in order behind the messages before it
	}
	switch h.Type {
	case mqtt.PUBLISH:
		return c.handlePublish(ws, h.Flags, body)
	case mqtt.PUBACK, mqtt.PUBREC, mqtt.PUBREL, mqtt.PUBCOMP:
		return c.handleAck(ws, h.Type, h.Flags, body)
	case mqtt.SUBSCRIBE:
		return c.handleSubscribe(ws, body)
	case mqtt.UNSUBSCRIBE:
		return c.handleUnsubscribe(ws, body)
	case mqtt.PINGREQ:
		if err := mqtt.DecodePing(body); err != nil {
			return err
		}
		return c.send(ws, mqtt.AppendPingresp(ws.out[:0]))
	case mqtt.DISCONNECT:
		return c.handleDisconnect(ws, body)
	case mqtt.CONNECT:
		return errProtocol("second CONNECT") // [MQTT-3.1.0-2]
	case mqtt.AUTH:
		return errProtocol("AUTH without an authentication method")
	default:
		return errProtocol(fmt.Sprintf("%s sent by a client", h.Type))
	}
}

// errProtocol is a protocol error with a message for the WARN line.
func errProtocol(msg string) error { return &mqtt.Error{Code: mqtt.ProtocolError, Msg: msg} }

// send queues a control packet (or a PUBLISH already accounted for) for c.
// A client whose outbound queue is full while it keeps sending is not
// reading: it is closed rather than allowed to grow the broker's memory.
func (c *conn) send(ws *workspace, pkt []byte) error {
	ws.out = pkt[:0]
	if _, err := c.ec.Write(pkt); err != nil {
		if errors.Is(err, engines.ErrOutboundFull) {
			return &mqtt.Error{Code: mqtt.QuotaExceeded, Msg: "outbound queue full: client is not reading"}
		}
		return err
	}
	ws.markFlush(c)
	return nil
}

// fail ends the connection because of err from parsing or handling: a WARN
// line, an MQTT 5 DISCONNECT with the reason code when the client is
// connected [MQTT-4.13.1-1], and the error returned to the engine (which
// closes the connection after flushing).
func (c *conn) fail(ws *workspace, err error) error {
	if errors.Is(err, errClientDisconnected) || errors.Is(err, errClosedDuringConnect) {
		c.state.Store(stateClosing)
		return err
	}
	if c.state.Swap(stateClosing) == stateClosing {
		return err
	}
	c.b.stats.protocolErrors.Add(1)
	code := mqtt.Reason(err)
	c.b.log.Warnf("Client %s closed: %s: %v", c.describe(), code, err)
	c.endReason.Store(&endNote{why: fmt.Sprintf("closed by server: %s", code), code: code})
	if c.version == mqtt.V5 && c.sess.Load() != nil {
		c.ec.Write(mqtt.AppendDisconnect(ws.out[:0], mqtt.V5, &mqtt.Disconnect{Reason: code})) // best effort before close
	}
	return err
}

// closeWith closes the connection from outside OnData (keep-alive, takeover,
// shutdown) with an MQTT 5 DISCONNECT carrying code when connected.
func (c *conn) closeWith(code mqtt.ReasonCode, why string) {
	// The note goes first: handleConnect reads it as soon as it sees the
	// state changed. The first closer's note stays.
	c.endReason.CompareAndSwap(nil, &endNote{why: why, code: code})
	prev := c.state.Swap(stateClosing)
	if prev == stateClosing {
		return
	}
	if prev == stateAwaitConnect && c.sess.Load() != nil {
		// Closed while its CONNECT is being accepted: handleConnect sends
		// CONNACK, sees the state changed, follows with a DISCONNECT of
		// code and has the connection closed, in that order.
		return
	}
	if prev == stateConnected && c.version == mqtt.V5 {
		var buf [8]byte
		c.ec.Write(mqtt.AppendDisconnect(buf[:0], mqtt.V5, &mqtt.Disconnect{Reason: code})) // best effort before close
	}
	c.ec.Close() // OnClose follows
}

// shutdown closes the connection because the server is stopping.
func (c *conn) shutdown() { c.closeWith(mqtt.ServerShuttingDown, "server shutting down") }

// timedOut reports whether c missed its CONNECT deadline or its keep-alive
// (1.5 times the keep-alive without a packet [MQTT-3.1.2-24]). now and the
// limits are in broker clock milliseconds.
func (c *conn) timedOut(now, connectLimitMs int64) bool {
	switch c.state.Load() {
	case stateAwaitConnect:
		return now-c.since.Load() >= connectLimitMs
	case stateConnected:
		return c.keepAlive > 0 && now-c.since.Load() > int64(c.keepAlive)*1500
	}
	return false
}

// closeTimedOut closes c after timedOut said so.
func (c *conn) closeTimedOut() {
	if c.state.Load() == stateAwaitConnect {
		c.b.log.Warnf("Client %s closed: no CONNECT within %v", c.describe(), c.b.cfg.ConnectTimeout)
		c.closeWith(mqtt.MaximumConnectTime, "no CONNECT in time")
		return
	}
	c.closeWith(mqtt.KeepAliveTimeout, "keep-alive timeout")
}

// OnClose detaches the connection from its session: the session is kept for
// its expiry (lost, or disconnected with a persistent session) or ended.
func (c *conn) OnClose(err error) {
	c.state.Store(stateClosing)
	c.b.removeConn(c)
	if errors.Is(err, engines.ErrInputBacklog) {
		c.b.stats.inputBacklog.Add(1)
		c.b.log.Warnf("Client %s closed: it publishes faster than the broker routes (%v)", c.describe(), err)
	}
	if c.sess.Load() == nil {
		return
	}
	why := "connection closed without DISCONNECT"
	if r := c.endReason.Load(); r != nil {
		why = r.why
	} else if err != nil && !errors.Is(err, io.EOF) {
		why = err.Error()
	}
	c.b.detach(c, why)
}

// session returns the connection's session: nil until CONNECT is accepted.
func (c *conn) session() *clientSession { return c.sess.Load() }

// describe names the client for log lines: "homer (127.0.0.1:5555)". Safe
// from any goroutine.
func (c *conn) describe() string {
	addr := "?"
	if a := c.ec.RemoteAddr(); a != nil {
		addr = a.String()
	}
	if s := c.session(); s != nil {
		return s.id + " (" + addr + ")"
	}
	return "(" + addr + ")"
}
