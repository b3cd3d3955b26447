package client_test

import (
	"context"
	"errors"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/client"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// wait bounds every wait of these tests: generous, CI machines are slow.
const wait = 10 * time.Second

// forEachEngine runs f against a fresh broker with cfg on every engine.
func forEachEngine(t *testing.T, cfg broker.Config, f func(t *testing.T, s *brokertest.Server)) {
	for _, name := range brokertest.Engines() {
		t.Run(name, func(t *testing.T) { f(t, brokertest.Start(t, name, cfg)) })
	}
}

// forEachEngineVersion runs f against a fresh broker with cfg on every
// engine, for MQTT 5 and 3.1.1.
func forEachEngineVersion(t *testing.T, cfg broker.Config, f func(t *testing.T, s *brokertest.Server, v mqtt.Version)) {
	for _, name := range brokertest.Engines() {
		t.Run(name, func(t *testing.T) {
			forEachVersion(t, func(t *testing.T, v mqtt.Version) { f(t, brokertest.Start(t, name, cfg), v) })
		})
	}
}

// forEachVersion runs f for MQTT 5 and 3.1.1.
func forEachVersion(t *testing.T, f func(t *testing.T, v mqtt.Version)) {
	for _, v := range []mqtt.Version{mqtt.V5, mqtt.V311} {
		t.Run("mqtt"+v.String(), func(t *testing.T) { f(t, v) })
	}
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// dial connects with opts and closes the client at the end of the test.
func dial(t testing.TB, addr string, opts client.Options) *client.Client {
	t.Helper()
	c, err := client.Dial(testContext(t), addr, opts)
	if err != nil {
		t.Fatalf("Dial %s as %q: %v", addr, opts.ClientID, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// inbox collects owned copies of the messages a client receives.
type inbox chan *client.Message

func newInbox() inbox { return make(inbox, 10000) }

func (in inbox) handler() func(*client.Message) { return client.ChannelHandler(in) }

// next returns the next message, failing the test after wait.
func (in inbox) next(t testing.TB) *client.Message {
	t.Helper()
	select {
	case m := <-in:
		return m
	case <-time.After(wait):
		t.Fatalf("no message within %v", wait)
		return nil
	}
}

// expect receives the next message and checks its topic and payload.
func (in inbox) expect(t testing.TB, topic, payload string) *client.Message {
	t.Helper()
	m := in.next(t)
	if string(m.Topic) != topic || string(m.Payload) != payload {
		t.Fatalf("got [%s] %q, want [%s] %q", m.Topic, m.Payload, topic, payload)
	}
	return m
}

// expectNone fails if a message arrives within d. A message the broker
// would wrongly send arrives within milliseconds on loopback; d only bounds
// how long the test looks.
func (in inbox) expectNone(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-in:
		t.Fatalf("unexpected message [%s] %q", m.Topic, m.Payload)
	case <-time.After(d):
	}
}

// syncPoint makes sure every message published by pub before it has been routed
// to sub: it round-trips a marker through the broker on a topic sub
// subscribes to for the purpose, and drops the marker.
func syncPoint(t testing.TB, pub, sub *client.Client, in inbox) {
	t.Helper()
	ctx := testContext(t)
	if _, err := sub.Subscribe(ctx, client.Subscription{Filter: "sync/" + sub.ClientID()}); err != nil {
		t.Fatalf("subscribe sync: %v", err)
	}
	if err := pub.Publish(ctx, "sync/"+sub.ClientID(), []byte("marker"), client.PublishOptions{}); err != nil {
		t.Fatalf("publish sync: %v", err)
	}
	for {
		m := in.next(t)
		if string(m.Topic) == "sync/"+sub.ClientID() {
			return
		}
		t.Fatalf("unexpected message [%s] %q before the marker", m.Topic, m.Payload)
	}
}

// waitDone waits until c's connection has ended and returns Err.
func waitDone(t testing.TB, c *client.Client) error {
	t.Helper()
	select {
	case <-c.Done():
		return c.Err()
	case <-time.After(wait):
		t.Fatalf("connection of %s still up after %v", c.ClientID(), wait)
		return nil
	}
}

// reasonOf returns the *ReasonError in err, failing the test if none.
func reasonOf(t testing.TB, err error) *client.ReasonError {
	t.Helper()
	var re *client.ReasonError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *client.ReasonError", err, err)
	}
	return re
}

// waitGoroutines waits until at most n goroutines run.
func waitGoroutines(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rawServer is a scripted MQTT peer on a real loopback socket, for what the
// real broker never does: stay silent, refuse a subscription, flood.
type rawServer struct {
	ln    net.Listener
	Addr  string
	conns chan *rawConn
}

// rawConn is one accepted connection whose CONNECT was answered.
type rawConn struct {
	net.Conn
	Version mqtt.Version // of the client's CONNECT
	parser  mqtt.Parser
	buf     []byte
}

// startRawServer accepts connections, answers each CONNECT with a
// successful CONNACK of the client's version, and hands the connection to
// the test.
func startRawServer(t testing.TB) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, Addr: ln.Addr().String(), conns: make(chan *rawConn, 16)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			rc := &rawConn{Conn: nc, buf: make([]byte, 64<<10)}
			var cp mqtt.Connect
			if _, body, err := rc.next(); err != nil || mqtt.DecodeConnect(body, &cp) != nil {
				nc.Close()
				continue
			}
			rc.Version = cp.Version
			rc.Write(mqtt.AppendConnack(nil, cp.Version, &mqtt.Connack{}))
			s.conns <- rc
		}
	}()
	return s
}

// accept returns the next connection.
func (s *rawServer) accept(t testing.TB) *rawConn {
	t.Helper()
	select {
	case rc := <-s.conns:
		t.Cleanup(func() { rc.Close() })
		return rc
	case <-time.After(wait):
		t.Fatal("raw server: no connection")
		return nil
	}
}

// next reads the next packet.
func (rc *rawConn) next() (mqtt.FixedHeader, []byte, error) {
	rc.SetReadDeadline(time.Now().Add(wait))
	for {
		h, body, ok, err := rc.parser.Next()
		if err != nil || ok {
			return h, body, err
		}
		n, err := rc.Read(rc.buf)
		if n > 0 {
			rc.parser.Feed(rc.buf[:n])
			continue
		}
		if err != nil {
			return h, nil, err
		}
	}
}

// expect reads packets until one of type want arrives and returns its body
// (PINGREQs are skipped).
func (rc *rawConn) expect(t testing.TB, want mqtt.Type) []byte {
	t.Helper()
	for {
		h, body, err := rc.next()
		if err != nil {
			t.Fatalf("raw server: waiting for %s: %v", want, err)
		}
		if h.Type == want {
			return body
		}
		if h.Type != mqtt.PINGREQ {
			t.Fatalf("raw server: got %s, want %s", h.Type, want)
		}
	}
}
