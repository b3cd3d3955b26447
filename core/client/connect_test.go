package client_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/client"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

func TestConnackVisible(t *testing.T) {
	cfg := broker.Config{MaxPacketSize: 4096, ReceiveMaximum: 7, TopicAliasMaximum: 3, Grace: 30 * time.Second}
	forEachEngine(t, cfg, func(t *testing.T, s *brokertest.Server) {
		c := dial(t, s.Addr, client.Options{ClientID: "homer", SessionExpiry: time.Hour, KeepAlive: 20 * time.Second})
		if c.ClientID() != "homer" || c.Version() != mqtt.V5 || c.SessionPresent() {
			t.Errorf("ClientID %q, Version %v, SessionPresent %v", c.ClientID(), c.Version(), c.SessionPresent())
		}
		p := &c.Connack().Props
		if p.MaximumPacketSize != 4096 || p.ReceiveMaximum != 7 || p.TopicAliasMaximum != 3 {
			t.Errorf("CONNACK maximums: packet %d, receive %d, alias %d", p.MaximumPacketSize, p.ReceiveMaximum, p.TopicAliasMaximum)
		}
		if !p.Has(mqtt.PropSessionExpiry) || p.SessionExpiry != 30 {
			t.Errorf("granted session expiry %d (present %v), want the server's cap 30", p.SessionExpiry, p.Has(mqtt.PropSessionExpiry))
		}
		if c.KeepAlive() != 20*time.Second {
			t.Errorf("KeepAlive %v, want 20s", c.KeepAlive())
		}
		if c.RemoteAddr().String() != s.Addr {
			t.Errorf("RemoteAddr %v, want %s", c.RemoteAddr(), s.Addr)
		}
	})
}

func TestAssignedClientID(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{})
	c := dial(t, s.Addr, client.Options{})
	if !strings.HasPrefix(c.ClientID(), "pubsubx-") || string(c.Connack().Props.AssignedClientID) != c.ClientID() {
		t.Errorf("ClientID %q, assigned %q", c.ClientID(), c.Connack().Props.AssignedClientID)
	}
}

func TestServerKeepAlive(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{MaxKeepAlive: 5})
	c := dial(t, s.Addr, client.Options{ClientID: "k", KeepAlive: time.Minute})
	if c.KeepAlive() != 5*time.Second {
		t.Errorf("KeepAlive %v, want the server's 5s [MQTT-3.2.2-21]", c.KeepAlive())
	}
}

func TestConnectRefused(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v mqtt.Version) {
		s := brokertest.Start(t, "goroutine", broker.Config{MaxConnections: 1})
		dial(t, s.Addr, client.Options{ClientID: "first", Version: v})
		_, err := client.Dial(testContext(t), s.Addr, client.Options{ClientID: "second", Version: v, CleanStart: true})
		re := reasonOf(t, err)
		want := mqtt.ServerBusy
		if v == mqtt.V311 {
			want = mqtt.V311ServerUnavailable
		}
		if re.Packet != mqtt.CONNACK || re.Code != want || re.Version != v {
			t.Fatalf("got %+v, want CONNACK code %#x", re, want)
		}
		if !strings.HasPrefix(err.Error(), "client: connection refused: ") {
			t.Errorf("message %q", err)
		}
		if errors.Is(err, client.ErrConnectionLost) {
			t.Errorf("a refused CONNACK matches ErrConnectionLost")
		}
	})
}

func TestConnectRefusedV311ReturnCode(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{MaxKeepAlive: 10})
	_, err := client.Dial(testContext(t), s.Addr, client.Options{ClientID: "x", Version: mqtt.V311, KeepAlive: time.Minute})
	re := reasonOf(t, err)
	if re.Code != mqtt.V311IdentifierRejected || err.Error() != "client: connection refused: identifier rejected (return code 0x2)" {
		t.Fatalf("got %v (code %#x)", err, re.Code)
	}
}

func TestOptionErrors(t *testing.T) {
	ctx := testContext(t)
	for _, tc := range []struct {
		name string
		opts client.Options
		want error
	}{
		{"version", client.Options{Version: 3}, client.ErrBadVersion},
		{"password without user", client.Options{Version: mqtt.V311, ClientID: "x", Password: []byte("p")}, client.ErrPasswordNoUser},
		{"3.1.1 empty id", client.Options{Version: mqtt.V311}, client.ErrNoIDWithoutClean},
		{"client id", client.Options{ClientID: "a\x00b"}, client.ErrInvalidClientID},
		{"will topic", client.Options{ClientID: "x", Will: &client.Will{Topic: "a/#"}}, client.ErrInvalidTopic},
	} {
		if _, err := client.Dial(ctx, "127.0.0.1:1", tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestDialUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = client.Dial(testContext(t), addr, client.Options{ClientID: "x"})
	var re *client.ReasonError
	if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), "client: dial "+addr) {
		t.Fatalf("got %v", err)
	}
}

func TestDialContextEnds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // accepts (backlog) but never answers
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = client.Dial(ctx, ln.Addr().String(), client.Options{ClientID: "x"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's deadline", err)
	}
}

func TestDialerLocalAddr(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{})
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}
	c := dial(t, s.Addr, client.Options{ClientID: "src", Dialer: &net.Dialer{LocalAddr: local}})
	if ip := c.LocalAddr().(*net.TCPAddr).IP; !ip.Equal(local.IP) {
		t.Fatalf("LocalAddr %v, want 127.0.0.2", ip)
	}
	s.WaitLog("Client src (127.0.0.2:", wait)
}

func TestCredentialsAndWill(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v mqtt.Version) {
		s := brokertest.Start(t, "goroutine", broker.Config{})
		watcher := newInbox()
		w := dial(t, s.Addr, client.Options{ClientID: "watcher", Version: v, Handler: watcher.handler()})
		if _, err := w.Subscribe(testContext(t), client.Subscription{Filter: "wills/#", QoS: 1}); err != nil {
			t.Fatal(err)
		}
		opts := client.Options{ClientID: "bart", Version: v, Username: "bart", Password: []byte("eat my shorts"),
			Will: &client.Will{Topic: "wills/bart", Payload: []byte("disconnected"), QoS: 1}}
		graceful := dial(t, s.Addr, opts)
		if err := graceful.Disconnect(testContext(t)); err != nil { // discards the will [MQTT-3.14.4-3]
			t.Fatal(err)
		}
		opts.Will = &client.Will{Topic: "wills/bart", Payload: []byte("lost"), QoS: 1}
		abrupt := dial(t, s.Addr, opts)
		abrupt.Close() // lost: the will is published [MQTT-3.1.2-8]
		if m := watcher.expect(t, "wills/bart", "lost"); m.QoS != 1 {
			t.Errorf("will QoS %d", m.QoS)
		}
	})
}
