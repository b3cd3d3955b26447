package client_test

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/client"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// TestSessionResume is the seed's lost client in library terms: a
// subscriber with a persistent session vanishes, messages are published
// meanwhile, and a new connection with the same name gets the session back
// with the messages in order; a DISCONNECT ending the session leaves
// nothing behind.
func TestSessionResume(t *testing.T) {
	forEachEngineVersion(t, broker.Config{}, func(t *testing.T, s *brokertest.Server, v mqtt.Version) {
		ctx := testContext(t)
		id := "homer-" + v.String()
		opts := client.Options{ClientID: id, Version: v, SessionExpiry: time.Minute}
		first := dial(t, s.Addr, opts)
		if _, err := first.Subscribe(ctx, client.Subscription{Filter: "news", QoS: 1}); err != nil {
			t.Fatal(err)
		}
		first.Close() // lost, as if killed
		s.WaitLog("Session of "+id+" kept", wait)

		pub := dial(t, s.Addr, client.Options{ClientID: "pub-" + id, Version: v})
		for i := range 5 {
			if err := pub.Publish(ctx, "news", []byte(fmt.Sprint("item ", i)), client.PublishOptions{QoS: mqtt.QoS(i % 2)}); err != nil {
				t.Fatal(err)
			}
		}
		in := newInbox()
		opts.Handler = in.handler()
		second := dial(t, s.Addr, opts)
		if !second.SessionPresent() {
			t.Fatal("session not present after reconnecting")
		}
		for i := range 5 {
			in.expect(t, "news", fmt.Sprint("item ", i))
		}
		if err := second.DisconnectWith(ctx, client.DisconnectOptions{EndSession: true}); err != nil {
			t.Fatal(err)
		}
		if v == mqtt.V5 {
			// The broker closes the socket before it ends the session
			// (OnClose runs after the close): wait for the end, so that
			// this checks the DISCONNECT, not that race.
			s.WaitLog("Client "+id+" ("+second.LocalAddr().String()+") disconnected", wait)
			third := dial(t, s.Addr, opts)
			if third.SessionPresent() {
				t.Fatal("session present after DISCONNECT with session expiry 0")
			}
		}
	})
}

func TestOperationsAfterDisconnect(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{})
	ctx := testContext(t)
	c := dial(t, s.Addr, client.Options{ClientID: "gone"})
	if err := c.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := waitDone(t, c); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Err %v", err)
	}
	if err := c.Publish(ctx, "t", nil, client.PublishOptions{}); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Publish QoS 0: %v", err)
	}
	if err := c.Publish(ctx, "t", nil, client.PublishOptions{QoS: 1}); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Publish QoS 1: %v", err)
	}
	if _, err := c.Subscribe(ctx, client.Subscription{Filter: "t"}); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Subscribe: %v", err)
	}
	if err := c.Unsubscribe(ctx, "t"); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Unsubscribe: %v", err)
	}
	if err := c.Disconnect(ctx); !errors.Is(err, client.ErrClosed) {
		t.Errorf("second Disconnect: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close after Disconnect: %v", err)
	}
	s.WaitLog("Client gone (", wait)
}

// TestServerGone: a server that shuts down sends DISCONNECT 0x8B to MQTT 5
// clients and closes the connection of 3.1.1 ones; either way the client
// ends, waiting operations fail, and later ones too.
func TestServerGone(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v mqtt.Version) {
		s := brokertest.Start(t, "goroutine", broker.Config{})
		ctx := testContext(t)
		c := dial(t, s.Addr, client.Options{ClientID: "c", Version: v})
		s.Stop()
		err := waitDone(t, c)
		if !errors.Is(err, client.ErrConnectionLost) {
			t.Fatalf("Err %v does not match ErrConnectionLost", err)
		}
		if v == mqtt.V5 {
			if re := reasonOf(t, err); re.Packet != mqtt.DISCONNECT || re.Code != mqtt.ServerShuttingDown {
				t.Errorf("got %v, want DISCONNECT server shutting down", err)
			}
		}
		if err := c.Publish(ctx, "t", nil, client.PublishOptions{QoS: 1}); !errors.Is(err, client.ErrConnectionLost) {
			t.Errorf("Publish after the loss: %v", err)
		}
		if err := c.Disconnect(ctx); !errors.Is(err, client.ErrConnectionLost) {
			t.Errorf("Disconnect after the loss: %v", err)
		}
	})
}

func TestSessionTakenOver(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{})
	first := dial(t, s.Addr, client.Options{ClientID: "twin"})
	dial(t, s.Addr, client.Options{ClientID: "twin"})
	re := reasonOf(t, waitDone(t, first))
	if re.Packet != mqtt.DISCONNECT || re.Code != mqtt.SessionTakenOver {
		t.Fatalf("got %v", re)
	}
	if re.Error() != "client: server sent DISCONNECT: session taken over (0x8e)" {
		t.Errorf("message %q", re.Error())
	}
}

// TestPendingFailsOnLoss: an acknowledgement that never comes fails with
// the connection's end.
func TestPendingFailsOnLoss(t *testing.T) {
	raw := startRawServer(t)
	c := dial(t, raw.Addr, client.Options{ClientID: "x"})
	rc := raw.accept(t)
	p, err := c.PublishAsync(testContext(t), "t", []byte("x"), client.PublishOptions{QoS: 1})
	if err != nil {
		t.Fatal(err)
	}
	rc.expect(t, mqtt.PUBLISH)
	rc.Close()
	if err := p.Wait(testContext(t)); !errors.Is(err, client.ErrConnectionLost) {
		t.Fatalf("got %v", err)
	}
}

// TestSubackFailure: a scripted server refuses the second filter.
func TestSubackFailure(t *testing.T) {
	raw := startRawServer(t)
	c := dial(t, raw.Addr, client.Options{ClientID: "x"})
	rc := raw.accept(t)
	p, err := c.SubscribeAsync(0, client.Subscription{Filter: "public", QoS: 1}, client.Subscription{Filter: "secret", QoS: 1})
	if err != nil {
		t.Fatal(err)
	}
	var sub mqtt.Subscribe
	if err := mqtt.DecodeSubscribe(mqtt.V5, rc.expect(t, mqtt.SUBSCRIBE), &sub); err != nil {
		t.Fatal(err)
	}
	ack := mqtt.Suback{PacketID: sub.PacketID, Reasons: []mqtt.ReasonCode{mqtt.GrantedQoS1, mqtt.NotAuthorized}}
	ack.Props.ReasonString = []byte("no secrets for you")
	rc.Write(mqtt.AppendSuback(nil, mqtt.V5, &ack))
	err = p.Wait(testContext(t))
	codes := p.Reasons()
	re := reasonOf(t, err)
	if re.Packet != mqtt.SUBACK || re.Code != mqtt.NotAuthorized || re.Filter != "secret" || len(codes) != 2 {
		t.Fatalf("got %v, codes %v", err, codes)
	}
	if want := `client: subscription to "secret" refused: not authorized (0x87): no secrets for you`; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

// TestProtocolViolationByServer: a server sending a packet only clients
// send is answered with DISCONNECT protocol error [MQTT-4.13.1-1].
func TestProtocolViolationByServer(t *testing.T) {
	raw := startRawServer(t)
	c := dial(t, raw.Addr, client.Options{ClientID: "x"})
	rc := raw.accept(t)
	rc.Write(mqtt.AppendPingreq(nil))
	var d mqtt.Disconnect
	if err := mqtt.DecodeDisconnect(mqtt.V5, rc.expect(t, mqtt.DISCONNECT), &d); err != nil || d.Reason != mqtt.ProtocolError {
		t.Fatalf("DISCONNECT %v, %v", d.Reason, err)
	}
	if err := waitDone(t, c); !errors.Is(err, client.ErrConnectionLost) {
		t.Fatalf("Err %v", err)
	}
}

// TestKeepAlive: with a 1 s keep-alive and no traffic, the client's pings
// keep the broker (which closes after 1.5 s of silence) from dropping it.
func TestKeepAlive(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{})
	c := dial(t, s.Addr, client.Options{ClientID: "pinger", KeepAlive: time.Second})
	select {
	case <-c.Done():
		t.Fatalf("connection ended: %v", c.Err())
	case <-time.After(3500 * time.Millisecond): // the idle time is the scenario
	}
	if err := c.Publish(testContext(t), "t", nil, client.PublishOptions{QoS: 1}); err != nil {
		t.Fatal(err)
	}
}

// TestKeepAliveDetectsSilentServer: a server that stops answering (the
// connection stays open, nothing arrives) is declared lost.
func TestKeepAliveDetectsSilentServer(t *testing.T) {
	raw := startRawServer(t)
	start := time.Now()
	c := dial(t, raw.Addr, client.Options{ClientID: "x", KeepAlive: time.Second})
	raw.accept(t) // keep it open, answer nothing
	err := waitDone(t, c)
	if !errors.Is(err, client.ErrKeepAliveTimeout) || !errors.Is(err, client.ErrConnectionLost) {
		t.Fatalf("Err %v", err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("declared lost after %v, before one keep-alive", d)
	}
}

// TestNoGoroutineLeaks counts goroutines around a full client life, and
// around connections the server ends.
func TestNoGoroutineLeaks(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{})
	ctx := testContext(t)
	base := runtime.NumGoroutine()

	in := newInbox()
	c, err := client.Dial(ctx, s.Addr, client.Options{ClientID: "a", Handler: in.handler()})
	if err != nil {
		t.Fatal(err)
	}
	c.Subscribe(ctx, client.Subscription{Filter: "t", QoS: 2})
	for q := range mqtt.QoS(3) {
		if err := c.Publish(ctx, "t", []byte("x"), client.PublishOptions{QoS: q}); err != nil {
			t.Fatal(err)
		}
		in.next(t)
	}
	if err := c.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	waitGoroutines(t, base)

	// Killed by the server: taken over, then the server stops.
	victim, err := client.Dial(ctx, s.Addr, client.Options{ClientID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	thief, err := client.Dial(ctx, s.Addr, client.Options{ClientID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, victim)
	s.Stop()
	waitDone(t, thief)
	waitGoroutines(t, base)
}

// TestInboundQoS2ExactlyOnce: a QoS 2 message sent again (DUP) before its
// PUBREL is acknowledged but not delivered twice; after PUBREL the packet
// identifier is free for a new message [MQTT-4.3.3-10].
func TestInboundQoS2ExactlyOnce(t *testing.T) {
	raw := startRawServer(t)
	in := newInbox()
	dial(t, raw.Addr, client.Options{ClientID: "x", Handler: in.handler()})
	rc := raw.accept(t)
	send := func(payload string, dup bool) {
		p := mqtt.Publish{Topic: []byte("t"), Payload: []byte(payload), QoS: 2, PacketID: 9, Dup: dup}
		rc.Write(mqtt.AppendPublish(nil, mqtt.V5, &p))
		var ack mqtt.Ack
		if err := mqtt.DecodeAck(mqtt.V5, mqtt.PUBREC, 0, rc.expect(t, mqtt.PUBREC), &ack); err != nil || ack.PacketID != 9 {
			t.Fatalf("PUBREC %+v %v", ack, err)
		}
	}
	send("first", false)
	send("first", true)
	rc.Write(mqtt.AppendAck(nil, mqtt.V5, &mqtt.Ack{Type: mqtt.PUBREL, PacketID: 9}))
	rc.expect(t, mqtt.PUBCOMP)
	send("second", false)
	in.expect(t, "t", "first")
	in.expect(t, "t", "second")
}
