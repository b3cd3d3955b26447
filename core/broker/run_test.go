package broker

import (
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"

	"github.com/pubsubx/pubsubx/core/mqtt"
	"github.com/pubsubx/pubsubx/engines"
)

// recordingConn is an engines.Conn that keeps what is written, so tests can
// decode exactly what a subscriber would receive, and can refuse writes
// beyond a byte budget like a full outbound queue.
type recordingConn struct {
	mu     sync.Mutex
	buf    []byte
	budget int // refuse writes once buf would exceed it; 0 means no limit
}

func (r *recordingConn) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.budget > 0 && len(r.buf)+len(p) > r.budget {
		return 0, engines.ErrOutboundFull
	}
	r.buf = append(r.buf, p...)
	return len(p), nil
}
func (r *recordingConn) Flush() error { return nil }
func (r *recordingConn) Close() error { return nil }
func (r *recordingConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2}
}

// publishes decodes the PUBLISH payloads received so far, in order.
func (r *recordingConn) publishes(t *testing.T, v mqtt.Version) []string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var p mqtt.Parser
	var pub mqtt.Publish
	var got []string
	p.Feed(r.buf)
	for {
		h, body, ok, err := p.Next()
		if err != nil {
			t.Fatalf("subscriber received garbage: %v", err)
		}
		if !ok {
			return got
		}
		if h.Type == mqtt.PUBLISH {
			if err := mqtt.DecodePublish(v, h.Flags, body, &pub); err != nil {
				t.Fatalf("PUBLISH: %v", err)
			}
			got = append(got, fmt.Sprintf("%s %s ids=%v", pub.Topic, pub.Payload, pub.Props.SubscriptionIDs))
		}
	}
}

// connectRecording opens a connection on b for id and subscribes it.
func connectRecording(t *testing.T, b *Broker, id string, v mqtt.Version, conn *recordingConn, editConnect func(*mqtt.Connect), sub mqtt.Subscribe) engines.Handler {
	t.Helper()
	h := b.Open(conn)
	cp := &mqtt.Connect{Version: v, ClientID: []byte(id), KeepAlive: 60}
	if editConnect != nil {
		editConnect(cp)
	}
	if err := h.OnData(mqtt.AppendConnect(nil, cp)); err != nil {
		t.Fatalf("CONNECT %s: %v", id, err)
	}
	if err := h.OnData(mqtt.AppendSubscribe(nil, v, &sub)); err != nil {
		t.Fatalf("SUBSCRIBE %s: %v", id, err)
	}
	return h
}

// TestRunDeliversEverySubscriberInOrder sends one read batch of QoS 0
// messages (a run) interrupted by a QoS 1 message and a message on another
// topic, to subscribers that take the run whole and subscribers that need
// their messages one by one: each must receive exactly its messages, in
// publication order.
func TestRunDeliversEverySubscriberInOrder(t *testing.T) {
	b := New(Config{})
	t.Cleanup(func() { b.Close(t.Context()) })
	filter := func(f string, id uint32) mqtt.Subscribe {
		s := mqtt.Subscribe{PacketID: 1, Filters: []mqtt.Subscription{{Filter: []byte(f), QoS: 1}}}
		if id != 0 {
			s.Props.SubscriptionIDs = []uint32{id}
		}
		return s
	}
	plain311, plain5, withID, small, full := &recordingConn{}, &recordingConn{}, &recordingConn{}, &recordingConn{}, &recordingConn{budget: 200}
	connectRecording(t, b, "plain311", mqtt.V311, plain311, nil, filter("run/#", 0))
	connectRecording(t, b, "plain5", mqtt.V5, plain5, nil, filter("run/#", 0))
	connectRecording(t, b, "with-id", mqtt.V5, withID, nil, filter("run/#", 42))
	connectRecording(t, b, "small", mqtt.V5, small, func(c *mqtt.Connect) {
		c.Props.MaximumPacketSize = 40
		c.Props.Set(mqtt.PropMaximumPacketSize)
	}, filter("run/#", 0))
	// "full" takes a few messages, then its outbound is full: the rest must
	// queue in its session, in order.
	connectRecording(t, b, "full", mqtt.V5, full, func(c *mqtt.Connect) { c.CleanStart = false }, filter("run/#", 0))

	pub := b.Open(&recordingConn{})
	if err := pub.OnData(mqtt.AppendConnect(nil, &mqtt.Connect{Version: mqtt.V5, ClientID: []byte("pub")})); err != nil {
		t.Fatal(err)
	}
	var batch []byte
	var want []string
	add := func(topic, payload string, qos mqtt.QoS) {
		p := &mqtt.Publish{Topic: []byte(topic), Payload: []byte(payload), QoS: qos}
		if qos > 0 {
			p.PacketID = 1
		}
		batch = mqtt.AppendPublish(batch, mqtt.V5, p)
		want = append(want, topic+" "+payload)
	}
	for i := range 5 {
		add("run/a", fmt.Sprintf("m%d", i), 0)
	}
	add("run/a", "a somewhat longer message that exceeds forty bytes", 0)
	add("run/a", "q1", 1)
	add("run/b", "other topic", 0)
	for i := 5; i < 8; i++ {
		add("run/a", fmt.Sprintf("m%d", i), 0)
	}
	if err := pub.OnData(batch); err != nil {
		t.Fatal(err)
	}

	strip := func(got []string) []string {
		out := make([]string, len(got))
		for i, g := range got {
			out[i] = g[:len(g)-len(" ids=[]")]
		}
		return out
	}
	for name, conn := range map[string]*recordingConn{"plain5": plain5, "small (no long message)": small} {
		got := strip(conn.publishes(t, mqtt.V5))
		expect := want
		if conn == small {
			expect = slices.DeleteFunc(slices.Clone(want), func(s string) bool { return len(s) > 30 })
		}
		if !slices.Equal(got, expect) {
			t.Errorf("%s received %q, want %q", name, got, expect)
		}
	}
	if got := strip(plain311.publishes(t, mqtt.V311)); !slices.Equal(got, want) {
		t.Errorf("3.1.1 subscriber received %q, want %q", got, want)
	}
	got := withID.publishes(t, mqtt.V5)
	if len(got) != len(want) {
		t.Fatalf("subscriber with an identifier received %d messages, want %d: %q", len(got), len(want), got)
	}
	for i, g := range got {
		if g != want[i]+" ids=[42]" {
			t.Errorf("subscriber with an identifier, message %d: %q, want %q", i, g, want[i]+" ids=[42]")
		}
	}
	// The subscriber whose outbound filled up has the first messages; the
	// rest wait in its session queue, in order, behind them.
	received := strip(full.publishes(t, mqtt.V5))
	s := b.sessions["full"]
	s.mu.Lock()
	var queued []string
	for s.queue.Len() > 0 {
		d, _ := s.queue.Pop()
		queued = append(queued, string(d.Msg.Topic)+" "+string(d.Msg.Payload))
	}
	s.mu.Unlock()
	if all := append(received, queued...); !slices.Equal(all, want) {
		t.Errorf("full subscriber: received %q then queued %q, want %q in all", received, queued, want)
	}
	if len(queued) == 0 {
		t.Errorf("full subscriber queued nothing: the outbound bound was not exercised")
	}
}
