package session

import (
	"strings"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

func msg(topic string, size int) *Message {
	return NewMessage(&mqtt.Publish{Topic: []byte(topic), Payload: make([]byte, size)}, time.Now())
}

func TestQueueOrderAndBounds(t *testing.T) {
	q := Queue{}
	const maxLen = 20
	for i := range 20 {
		if !q.Push(Delivery{Msg: msg("t", i)}, maxLen, 0) {
			t.Fatalf("push %d refused below the bound", i)
		}
	}
	if q.Push(Delivery{Msg: msg("t", 0)}, maxLen, 0) {
		t.Fatal("push beyond MaxLen accepted")
	}
	// Interleave pops and pushes across the ring's wrap-around.
	for i := range 20 {
		d, ok := q.Pop()
		if !ok || len(d.Msg.Payload) != i {
			t.Fatalf("pop %d: got payload %d, ok %v", i, len(d.Msg.Payload), ok)
		}
		if i < 10 {
			q.Push(Delivery{Msg: msg("t", 100+i)}, maxLen, 0)
		}
	}
	for i := range 10 {
		d, _ := q.Pop()
		if len(d.Msg.Payload) != 100+i {
			t.Fatalf("after wrap: got %d, want %d", len(d.Msg.Payload), 100+i)
		}
	}
	if _, ok := q.Pop(); ok || q.Len() != 0 || q.Bytes() != 0 || q.r != nil {
		t.Fatalf("empty queue: len %d bytes %d storage held %v", q.Len(), q.Bytes(), q.r != nil)
	}
}

func TestQueueByteBound(t *testing.T) {
	q := Queue{}
	const maxBytes = 1000
	if !q.Push(Delivery{Msg: msg("t", 2000)}, 0, maxBytes) {
		t.Fatal("an empty queue must take one message even over MaxBytes")
	}
	if q.Push(Delivery{Msg: msg("t", 1)}, 0, maxBytes) {
		t.Fatal("push beyond MaxBytes accepted")
	}
	q.Pop()
	for q.Push(Delivery{Msg: msg("t", 99)}, 0, maxBytes) {
	}
	if q.Bytes() > 1000 || q.Len() != 10 {
		t.Fatalf("bytes %d len %d, want <= 1000 and 10 (100 bytes each)", q.Bytes(), q.Len())
	}
	if n := q.Clear(); n != 10 || q.Bytes() != 0 {
		t.Fatalf("Clear: %d, bytes %d", n, q.Bytes())
	}
}

func TestInflightWindowIDsAndOrder(t *testing.T) {
	f := Inflight{}
	const window = 3
	ids := []uint16{f.Add(Delivery{Msg: msg("a", 0), QoS: 1}, window), f.Add(Delivery{Msg: msg("b", 0), QoS: 2}, window), f.Add(Delivery{Msg: msg("c", 0), QoS: 1}, window)}
	if !f.Full(window) || f.Add(Delivery{Msg: msg("d", 0), QoS: 1}, window) != 0 {
		t.Fatal("window of 3 not enforced")
	}
	if e, ok := f.Get(ids[1]); !ok || e.Phase != AwaitPubrec {
		t.Fatalf("QoS 2 entry: %+v %v", e, ok)
	}
	if !f.Release(ids[1]) || f.Release(ids[1]) {
		t.Fatal("Release must succeed once")
	}
	next := f.Add(Delivery{Msg: msg("d", 0), QoS: 1}, window)
	for _, id := range ids {
		if next == id && id != ids[1] {
			t.Fatalf("id %d reused while in flight", id)
		}
	}
	var order []string
	f.Each(func(e *Outflight) { order = append(order, string(e.Msg.Topic)) })
	if got := strings.Join(order, ""); got != "acd" {
		t.Fatalf("send order %q, want acd", got)
	}
	if f.Clear() != 3 || f.Len() != 0 {
		t.Fatal("Clear")
	}
}

func TestInflightIDWrapSkipsUsed(t *testing.T) {
	f := Inflight{}
	first := f.Add(Delivery{Msg: msg("keep", 0), QoS: 1}, 0)
	for range 70000 { // wraps the 16-bit id space
		id := f.Add(Delivery{Msg: msg("x", 0), QoS: 1}, 0)
		if id == 0 || id == first {
			t.Fatalf("bad id %d (first %d)", id, first)
		}
		f.Release(id)
	}
	if len(f.t.entries) > 64 {
		t.Fatalf("acknowledged entries behind an old one were not compacted: %d entries", len(f.t.entries))
	}
}

func TestMessageCopyAndExpiry(t *testing.T) {
	now := time.Now()
	p := &mqtt.Publish{Topic: []byte("t/1"), Payload: []byte("hello"), QoS: 1, Retain: true}
	p.Props.MessageExpiry = 10
	p.Props.Set(mqtt.PropMessageExpiry)
	p.Props.ContentType = []byte("text/plain")
	p.Props.UserProperties = []mqtt.UserProperty{{Key: []byte("k"), Value: []byte("v")}}
	m := NewMessage(p, now)
	p.Payload[0], p.Topic[0], p.Props.UserProperties[0].Key[0] = 'X', 'X', 'X' // the copy must not alias
	if string(m.Topic) != "t/1" || string(m.Payload) != "hello" || string(m.Props.UserProperties[0].Key) != "k" ||
		string(m.Props.ContentType) != "text/plain" || !m.Retain || m.QoS != 1 {
		t.Fatalf("copy: %+v", m)
	}
	if left, ok := m.RemainingExpiry(now.Add(3 * time.Second)); !ok || left != 7 {
		t.Fatalf("remaining expiry after 3 s: %d %v, want 7", left, ok)
	}
	if m.Expired(now.Add(9*time.Second)) || !m.Expired(now.Add(10*time.Second)) {
		t.Fatal("Expired boundary")
	}
	if _, ok := msg("t", 1).RemainingExpiry(now); ok {
		t.Fatal("a message without expiry reports one")
	}
}
