package brokertest

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

// DefaultWait bounds every wait of a RawClient. Generous: CI machines are slow.
const DefaultWait = 10 * time.Second

// Packet is one packet received by a RawClient; Body is an owned copy.
type Packet struct {
	Type  mqtt.Type
	Flags byte
	Body  []byte
}

// RawClient speaks MQTT packet by packet over one TCP connection, failing
// the test on anything unexpected. Not safe for concurrent use.
type RawClient struct {
	t       testing.TB
	nc      net.Conn
	Version mqtt.Version
	parser  mqtt.Parser
	buf     []byte
	queue   []Packet
	eof     error
}

// Dial connects to addr, speaking protocol v.
func Dial(t testing.TB, addr string, v mqtt.Version) *RawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, DefaultWait)
	if err != nil {
		t.Fatalf("brokertest: dial %s: %v", addr, err)
	}
	c := &RawClient{t: t, nc: nc, Version: v, buf: make([]byte, 64<<10)}
	t.Cleanup(func() { nc.Close() })
	return c
}

// Close closes the connection abruptly (no DISCONNECT).
func (c *RawClient) Close() { c.nc.Close() }

// Send writes raw bytes.
func (c *RawClient) Send(b []byte) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(DefaultWait))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("brokertest: write: %v", err)
	}
}

// Connect sends CONNECT for clientID (edit may adjust the packet, e.g. set
// properties or a will) and returns the CONNACK.
func (c *RawClient) Connect(clientID string, clean bool, edit func(*mqtt.Connect)) *mqtt.Connack {
	c.t.Helper()
	cp := &mqtt.Connect{Version: c.Version, CleanStart: clean, KeepAlive: 60, ClientID: []byte(clientID)}
	if edit != nil {
		edit(cp)
	}
	c.Send(mqtt.AppendConnect(nil, cp))
	return c.ExpectConnack()
}

// Subscribe subscribes to filters at qos with packet id 1 (edit may adjust
// the packet) and returns the SUBACK's reason codes.
func (c *RawClient) Subscribe(qos mqtt.QoS, edit func(*mqtt.Subscribe), filters ...string) []mqtt.ReasonCode {
	c.t.Helper()
	s := &mqtt.Subscribe{PacketID: 1}
	for _, f := range filters {
		s.Filters = append(s.Filters, mqtt.Subscription{Filter: []byte(f), QoS: qos})
	}
	if edit != nil {
		edit(s)
	}
	c.Send(mqtt.AppendSubscribe(nil, c.Version, s))
	p := c.Expect(mqtt.SUBACK)
	ack := &mqtt.Suback{}
	if err := mqtt.DecodeSuback(c.Version, p.Body, ack); err != nil {
		c.t.Fatalf("brokertest: SUBACK: %v", err)
	}
	return ack.Reasons
}

// Publish sends a PUBLISH (packet id 0 at QoS 0); it does not wait for acks.
func (c *RawClient) Publish(topic, payload string, qos mqtt.QoS, retain bool, id uint16, edit func(*mqtt.Publish)) {
	c.t.Helper()
	p := &mqtt.Publish{Topic: []byte(topic), Payload: []byte(payload), QoS: qos, Retain: retain, PacketID: id}
	if edit != nil {
		edit(p)
	}
	c.Send(mqtt.AppendPublish(nil, c.Version, p))
}

// SendAck sends PUBACK, PUBREC, PUBREL or PUBCOMP for id.
func (c *RawClient) SendAck(t mqtt.Type, id uint16) {
	c.t.Helper()
	c.Send(mqtt.AppendAck(nil, c.Version, &mqtt.Ack{Type: t, PacketID: id}))
}

// Disconnect sends DISCONNECT (edit may set the MQTT 5 reason and
// properties) and closes the connection.
func (c *RawClient) Disconnect(edit func(*mqtt.Disconnect)) {
	c.t.Helper()
	d := &mqtt.Disconnect{}
	if edit != nil {
		edit(d)
	}
	c.Send(mqtt.AppendDisconnect(nil, c.Version, d))
	c.nc.Close()
}

// Next returns the next packet, failing the test after timeout.
func (c *RawClient) Next(timeout time.Duration) Packet {
	c.t.Helper()
	p, err := c.read(timeout)
	if err != nil {
		c.t.Fatalf("brokertest: waiting for a packet: %v", err)
	}
	return p
}

// Expect returns the next packet, failing the test unless it has type t.
func (c *RawClient) Expect(t mqtt.Type) Packet {
	c.t.Helper()
	p := c.Next(DefaultWait)
	if p.Type != t {
		c.t.Fatalf("brokertest: got %s (body % x), want %s", p.Type, p.Body, t)
	}
	return p
}

// ExpectPublish returns the next packet decoded as a PUBLISH.
func (c *RawClient) ExpectPublish() *mqtt.Publish {
	c.t.Helper()
	p := c.Expect(mqtt.PUBLISH)
	pub := &mqtt.Publish{}
	if err := mqtt.DecodePublish(c.Version, p.Flags, p.Body, pub); err != nil {
		c.t.Fatalf("brokertest: PUBLISH: %v", err)
	}
	return pub
}

// ExpectAck returns the next packet decoded as an acknowledgement of type t.
func (c *RawClient) ExpectAck(t mqtt.Type) *mqtt.Ack {
	c.t.Helper()
	p := c.Expect(t)
	a := &mqtt.Ack{}
	if err := mqtt.DecodeAck(c.Version, t, p.Flags, p.Body, a); err != nil {
		c.t.Fatalf("brokertest: %s: %v", t, err)
	}
	return a
}

// ExpectNothing fails the test if a packet arrives within d.
func (c *RawClient) ExpectNothing(d time.Duration) {
	c.t.Helper()
	p, err := c.read(d)
	if err == nil {
		c.t.Fatalf("brokertest: unexpected %s (body % x)", p.Type, p.Body)
	}
}

// ExpectClosed waits until the broker closes the connection and returns the
// reason of the DISCONNECT it sent first (MQTT 5), or -1 when none came.
func (c *RawClient) ExpectClosed() int {
	c.t.Helper()
	reason := -1
	for {
		p, err := c.read(DefaultWait)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.t.Fatalf("brokertest: connection still open after %v", DefaultWait)
			}
			return reason
		}
		if p.Type == mqtt.DISCONNECT {
			d := &mqtt.Disconnect{}
			if err := mqtt.DecodeDisconnect(c.Version, p.Body, d); err != nil {
				c.t.Fatalf("brokertest: DISCONNECT: %v", err)
			}
			reason = int(d.Reason)
		}
	}
}

// read returns the next packet or the error that prevented it.
func (c *RawClient) read(timeout time.Duration) (Packet, error) {
	deadline := time.Now().Add(timeout)
	for len(c.queue) == 0 {
		if c.eof != nil {
			return Packet{}, c.eof
		}
		c.nc.SetReadDeadline(deadline)
		n, err := c.nc.Read(c.buf)
		if n > 0 {
			if perr := c.parse(c.buf[:n]); perr != nil {
				return Packet{}, perr
			}
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return Packet{}, err
			}
			if !errors.Is(err, io.EOF) {
				err = io.EOF // a reset is a close too, for these tests
			}
			c.eof = err
		}
	}
	p := c.queue[0]
	c.queue = c.queue[1:]
	return p, nil
}

func (c *RawClient) parse(b []byte) error {
	c.parser.Feed(b)
	for {
		h, body, ok, err := c.parser.Next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		c.queue = append(c.queue, Packet{Type: h.Type, Flags: h.Flags, Body: append([]byte(nil), body...)})
	}
}
