package broker

import (
	"crypto/rand"
	"time"

	"github.com/pubsubx/pubsubx/core/logx"
	"github.com/pubsubx/pubsubx/core/mqtt"
	"github.com/pubsubx/pubsubx/core/session"
)

// refusal is a CONNECT the broker answers with a failing CONNACK.
type refusal struct {
	v5   mqtt.ReasonCode // MQTT 5 reason code
	v311 mqtt.ReasonCode // MQTT 3.1.1 return code; 0 means close without CONNACK
	why  string
}

// handleConnect accepts or refuses a CONNECT, attaches the session (new,
// resumed or taken over), answers CONNACK and resumes queued deliveries.
func (c *conn) handleConnect(ws *workspace, body []byte) error {
	cp := &ws.connect
	if err := mqtt.DecodeConnect(body, cp); err != nil {
		code := mqtt.Reason(err)
		switch {
		case code == mqtt.UnsupportedProtocolVersion:
			// Answer in 3.1.1 form: a client of another version cannot read 5.0 [MQTT-3.1.2-2].
			return c.refuse(ws, refusal{v5: code, v311: mqtt.V311UnacceptableProtocol, why: err.Error()}, mqtt.V311, "")
		case cp.Version == mqtt.V5:
			return c.refuse(ws, refusal{v5: code, why: err.Error()}, mqtt.V5, "")
		}
		return err
	}
	c.version = cp.Version
	if r, ok := c.checkConnect(cp); !ok {
		return c.refuse(ws, r, cp.Version, string(cp.ClientID))
	}

	b := c.b
	clientID, assigned := string(cp.ClientID), false
	if clientID == "" {
		clientID, assigned = b.assignClientID(), true // [MQTT-3.1.3-6]
	}
	var ident *identity
	if b.cfg.ACL != nil { // only the ACL needs to know who the client is
		ident = &identity{clientID: clientID, username: string(cp.Username), hasUsername: cp.HasUsername}
	}

	var ack mqtt.Connack
	c.keepAlive = cp.KeepAlive
	if max := b.cfg.MaxKeepAlive; max > 0 && (c.keepAlive == 0 || c.keepAlive > max) {
		c.keepAlive = max // MQTT 5 only: checkConnect refused 3.1.1 clients
		ack.Props.ServerKeepAlive = max
		ack.Props.Set(mqtt.PropServerKeepAlive)
	}
	expiry := b.sessionExpiry(cp, &ack.Props)
	c.expiryWasZero = cp.Version == mqtt.V5 && cp.Props.SessionExpiry == 0
	window := b.cfg.MaxInflight
	if cp.Version == mqtt.V5 {
		if cp.Props.Has(mqtt.PropReceiveMaximum) {
			window = min(window, int(cp.Props.ReceiveMaximum))
		}
		if cp.Props.Has(mqtt.PropMaximumPacketSize) {
			c.maxPacket = cp.Props.MaximumPacketSize
		}
		if cp.Props.TopicAliasMaximum > 0 {
			c.aliasOut = &outboundAliases{max: cp.Props.TopicAliasMaximum}
		}
		if assigned {
			ack.Props.AssignedClientID = cp.ClientID[:0:0]
			ack.Props.AssignedClientID = append(ack.Props.AssignedClientID, clientID...)
		}
		ack.Props.ReceiveMaximum = b.cfg.ReceiveMaximum
		ack.Props.TopicAliasMaximum = b.cfg.TopicAliasMaximum
		ack.Props.MaximumPacketSize = uint32(b.cfg.MaxPacketSize)
		ack.Props.Set(mqtt.PropReceiveMaximum)
		ack.Props.Set(mqtt.PropTopicAliasMaximum)
		ack.Props.Set(mqtt.PropMaximumPacketSize)
	}
	var w *will
	if cp.WillFlag {
		w = newWill(cp, clientID, ident)
	}

	s, present, queued := b.attach(c, clientID, ident, cp.CleanStart, expiry, w)
	ack.SessionPresent = present
	if err := c.send(ws, mqtt.AppendConnack(ws.out[:0], c.version, &ack)); err != nil {
		return err
	}
	c.since.Store(b.clock.Load()) // the keep-alive runs from CONNECT
	if !c.state.CompareAndSwap(stateAwaitConnect, stateConnected) {
		// Closed (taken over, shutdown) between attach and here: closeWith
		// left the DISCONNECT and the close to us, to follow the CONNACK.
		if n := c.endReason.Load(); n != nil && c.version == mqtt.V5 {
			c.ec.Write(mqtt.AppendDisconnect(ws.out[:0], mqtt.V5, &mqtt.Disconnect{Reason: n.code})) // best effort: closing
		}
		return errClosedDuringConnect
	}
	s.resume(ws, c, window)

	b.logConnected(c, cp, expiry, present, queued)
	return nil
}

// assignClientID returns a client identifier for a client that sent none: a
// random one (80 bits), so no client can guess it and take over or resume
// another's session, and checked against the sessions the broker holds, so
// it is unique [MQTT-3.1.3-6].
func (b *Broker) assignClientID() string {
	for {
		id := "pubsubx-" + rand.Text()[:16]
		b.mu.Lock()
		_, taken := b.sessions[id]
		b.mu.Unlock()
		if !taken {
			return id
		}
	}
}

// checkConnect applies the broker's admission rules to a well-formed CONNECT.
func (c *conn) checkConnect(cp *mqtt.Connect) (refusal, bool) {
	b := c.b
	switch {
	case c.overLimit:
		return refusal{mqtt.ServerBusy, mqtt.V311ServerUnavailable, "too many connections"}, false
	case cp.Version == mqtt.V5 && cp.Props.AuthMethod != nil:
		return refusal{mqtt.BadAuthenticationMethod, 0, "enhanced authentication is not supported"}, false
	case len(cp.ClientID) == 0 && cp.Version == mqtt.V311 && !cp.CleanStart:
		return refusal{mqtt.ClientIDNotValid, mqtt.V311IdentifierRejected, "empty client identifier with clean session 0"}, false // [MQTT-3.1.3-8]
	case cp.Version == mqtt.V311 && b.cfg.MaxKeepAlive > 0 && (cp.KeepAlive == 0 || cp.KeepAlive > b.cfg.MaxKeepAlive):
		return refusal{mqtt.UnspecifiedError, mqtt.V311IdentifierRejected, "keep-alive above the server's maximum"}, false
	}
	if cp.WillFlag && isSysTopic(cp.WillTopic) {
		return refusal{mqtt.NotAuthorized, mqtt.V311NotAuthorized, "will topic is a $SYS topic, which belong to the broker"}, false
	}
	if cp.WillFlag && b.cfg.ACL != nil {
		ident := &identity{clientID: string(cp.ClientID), username: string(cp.Username), hasUsername: cp.HasUsername}
		if !ident.canPublish(b, cp.WillTopic) {
			return refusal{mqtt.NotAuthorized, mqtt.V311NotAuthorized, "will topic not authorized"}, false
		}
	}
	return refusal{}, true
}

// refuse answers CONNACK with the refusal's code (when the version has one)
// and closes the connection [MQTT-3.2.2-6]; the WARN line names clientID
// when the CONNECT could be decoded.
func (c *conn) refuse(ws *workspace, r refusal, v mqtt.Version, clientID string) error {
	code := r.v5
	if v != mqtt.V5 {
		code = r.v311
	}
	if v == mqtt.V5 || code != 0 {
		c.ec.Write(mqtt.AppendConnack(ws.out[:0], v, &mqtt.Connack{Reason: code})) // closing anyway
	}
	c.state.Store(stateClosing)
	c.b.stats.protocolErrors.Add(1)
	who := c.describe()
	if clientID != "" {
		who = clientID + " " + who
	}
	switch {
	case v == mqtt.V5:
		c.b.log.Warnf("Client %s refused: %s (%s)", who, r.v5, r.why)
	case code != 0:
		c.b.log.Warnf("Client %s refused: %s, sent as MQTT 3.1.1 return code 0x%02x (%s)", who, r.v5, byte(code), r.why)
	default:
		c.b.log.Warnf("Client %s refused: %s, closed without CONNACK (MQTT 3.1.1 has no return code for it) (%s)", who, r.v5, r.why)
	}
	return &mqtt.Error{Code: r.v5, Msg: "connection refused: " + r.why}
}

// sessionExpiry decides how long the session outlives the connection: MQTT
// 5's Session Expiry Interval capped by Grace (told back in CONNACK when
// changed [MQTT-3.2.2-?]), or Grace for MQTT 3.1.1 clients with clean session
// 0, and nothing for clean session 1.
func (b *Broker) sessionExpiry(cp *mqtt.Connect, ack *mqtt.Properties) time.Duration {
	if cp.Version != mqtt.V5 {
		if cp.CleanStart {
			return 0
		}
		return b.cfg.Grace
	}
	asked := time.Duration(cp.Props.SessionExpiry) * time.Second
	if asked > b.cfg.Grace {
		ack.SessionExpiry = uint32(b.cfg.Grace / time.Second)
		ack.Set(mqtt.PropSessionExpiry)
		return b.cfg.Grace
	}
	return asked
}

// attach binds c to the session of clientID: a fresh one (clean start, or
// none held), or the held one, whose previous connection is taken over. It
// returns the session, whether it was present, and its queued deliveries.
func (b *Broker) attach(c *conn, clientID string, ident *identity, clean bool, expiry time.Duration, w *will) (s *clientSession, present bool, queued int) {
	var previous *conn
	var staleWill *will
	b.mu.Lock()
	if old := b.sessions[clientID]; old != nil {
		old.mu.Lock()
		previous = old.owner
		staleWill = old.detachLocked(previous != nil)
		if clean {
			b.stats.droppedExpiredSession.Add(int64(old.endLocked()))
			delete(b.sessions, clientID)
			if staleWill == nil && old.will != nil {
				staleWill = old.will // a clean start ends the session: its delayed will is due
			}
			old.will = nil
		} else {
			s, present = old, true
			old.will = nil // a new connection arrived before the will delay [MQTT-3.1.3-9]
		}
		old.mu.Unlock()
	}
	if s == nil {
		s = newClientSession(b, clientID)
		b.sessions[clientID] = s
	}
	s.mu.Lock()
	s.owner = c
	c.sess.Store(s) // before anyone can take c over and name it in a log line
	s.expiry = expiry
	s.will = w
	s.ident.Store(ident)
	queued = s.queue.Len() + s.inflight.Len()
	s.mu.Unlock()
	b.mu.Unlock()

	if previous != nil {
		b.log.Infof("Client %s taken over by a new connection from %s", previous.describe(), c.ec.RemoteAddr())
		previous.closeWith(mqtt.SessionTakenOver, "session taken over") // [MQTT-3.1.4-3]
	}
	if staleWill != nil {
		b.publishWill(staleWill)
	}
	return s, present, queued
}

func (b *Broker) logConnected(c *conn, cp *mqtt.Connect, expiry time.Duration, present bool, queued int) {
	if !b.log.Enabled(logx.Info) {
		return
	}
	b.log.Infof("Client %s connected (MQTT %s, clean start %d, session expiry %v, keep-alive %ds)",
		c.describe(), cp.Version, boolBit(cp.CleanStart), expiry, c.keepAlive)
	if present {
		b.log.Infof("Client %s resumed its session with %s", c.session().id, counted(queued, "queued message", ""))
	}
}

func boolBit(v bool) int {
	if v {
		return 1
	}
	return 0
}

// will is a connection's Will Message with its delay and its publisher.
type will struct {
	msg      *session.Message
	delay    time.Duration
	clientID string
	ident    *identity // nil without an ACL
}

func newWill(cp *mqtt.Connect, clientID string, ident *identity) *will {
	p := mqtt.Publish{QoS: cp.WillQoS, Retain: cp.WillRetain, Topic: cp.WillTopic, Payload: cp.WillPayload}
	p.Props = cp.WillProps
	w := &will{msg: session.NewMessage(&p, time.Now()), clientID: clientID, ident: ident}
	if cp.WillProps.Has(mqtt.PropWillDelay) {
		w.delay = time.Duration(cp.WillProps.WillDelay) * time.Second
	}
	return w
}
