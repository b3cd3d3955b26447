package client_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/client"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// TestQoSBothDirections publishes at every QoS to subscriptions at every
// QoS: the delivered QoS is the lower of the two [MQTT-3.8.4-8], messages
// arrive in order, and every flow completes (the Publish calls return only
// after PUBACK or PUBCOMP; the subscriber acknowledges, or the broker's
// in-flight window would stall the later messages).
func TestQoSBothDirections(t *testing.T) {
	forEachEngineVersion(t, broker.Config{MaxInflight: 4}, func(t *testing.T, s *brokertest.Server, v mqtt.Version) {
		ctx := testContext(t)
		for subQoS := mqtt.QoS(0); subQoS <= 2; subQoS++ {
			in := newInbox()
			id := fmt.Sprintf("sub%d", subQoS)
			sub := dial(t, s.Addr, client.Options{ClientID: id, Version: v, Handler: in.handler()})
			codes, err := sub.Subscribe(ctx, client.Subscription{Filter: "q/" + id, QoS: subQoS})
			if err != nil || !slices.Equal(codes, []mqtt.ReasonCode{mqtt.ReasonCode(subQoS)}) {
				t.Fatalf("Subscribe: %v %v", codes, err)
			}
			pub := dial(t, s.Addr, client.Options{ClientID: "pub" + id, Version: v})
			for pubQoS := mqtt.QoS(0); pubQoS <= 2; pubQoS++ {
				for i := range 10 { // more than MaxInflight
					payload := fmt.Sprintf("pub QoS %d #%d", pubQoS, i)
					if err := pub.Publish(ctx, "q/"+id, []byte(payload), client.PublishOptions{QoS: pubQoS}); err != nil {
						t.Fatalf("Publish QoS %d: %v", pubQoS, err)
					}
					m := in.expect(t, "q/"+id, payload)
					if want := min(pubQoS, subQoS); m.QoS != want {
						t.Fatalf("delivered at QoS %d, want %d", m.QoS, want)
					}
				}
			}
		}
	})
}

func TestPublishRefused(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{})
	c := dial(t, s.Addr, client.Options{ClientID: "bart"})
	ctx := testContext(t)
	for _, tc := range []struct {
		qos  mqtt.QoS
		want mqtt.Type
	}{{1, mqtt.PUBACK}, {2, mqtt.PUBREC}} {
		err := c.Publish(ctx, "$SYS/broker/uptime", []byte("forever"), client.PublishOptions{QoS: tc.qos})
		re := reasonOf(t, err)
		if re.Packet != tc.want || re.Code != mqtt.NotAuthorized {
			t.Errorf("QoS %d: got %v, want %s not authorized", tc.qos, err, tc.want)
		}
	}
	// The refusals released their Receive Maximum slots and the connection is fine.
	if err := c.Publish(ctx, "fine", []byte("x"), client.PublishOptions{QoS: 2}); err != nil {
		t.Fatal(err)
	}
}

func TestPublishChecks(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{MaxPacketSize: 1024})
	c := dial(t, s.Addr, client.Options{ClientID: "checks"})
	ctx := testContext(t)
	for _, tc := range []struct {
		topic   string
		payload []byte
		opts    client.PublishOptions
		want    error
	}{
		{"a/+", nil, client.PublishOptions{}, client.ErrInvalidTopic},
		{"", nil, client.PublishOptions{}, client.ErrInvalidTopic},
		{"a", nil, client.PublishOptions{QoS: 3}, client.ErrInvalidQoS},
		{"a", make([]byte, 1024), client.PublishOptions{}, client.ErrPacketTooLarge},
	} {
		if err := c.Publish(ctx, tc.topic, tc.payload, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("Publish(%q, %d bytes, %+v): got %v, want %v", tc.topic, len(tc.payload), tc.opts, err, tc.want)
		}
	}
	for _, f := range []string{"a/#/b", "a+", ""} {
		if _, err := c.Subscribe(ctx, client.Subscription{Filter: f}); !errors.Is(err, client.ErrInvalidFilter) {
			t.Errorf("Subscribe(%q): %v", f, err)
		}
	}
	if _, err := c.Subscribe(ctx); !errors.Is(err, client.ErrNoFilters) {
		t.Errorf("Subscribe(): %v", err)
	}
	if err := c.Unsubscribe(ctx); !errors.Is(err, client.ErrNoFilters) {
		t.Errorf("Unsubscribe(): %v", err)
	}
	if err := c.Publish(ctx, "a", make([]byte, 900), client.PublishOptions{QoS: 1}); err != nil {
		t.Errorf("a packet under the maximum: %v", err)
	}
}

func TestSubscribeOptions(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{})
	ctx := testContext(t)
	in := newInbox()
	c := dial(t, s.Addr, client.Options{ClientID: "lisa", Handler: in.handler()})
	other := dial(t, s.Addr, client.Options{ClientID: "maggie"})

	// No Local: own messages are not delivered back [MQTT-3.8.3-3].
	if _, err := c.SubscribeWithID(ctx, 7, client.Subscription{Filter: "chat/#", NoLocal: true}); err != nil {
		t.Fatal(err)
	}
	c.Publish(ctx, "chat/lisa", []byte("mine"), client.PublishOptions{})
	other.Publish(ctx, "chat/maggie", []byte("theirs"), client.PublishOptions{})
	m := in.expect(t, "chat/maggie", "theirs")
	if !slices.Equal(m.SubscriptionIDs(), []uint32{7}) {
		t.Errorf("subscription identifiers %v, want [7]", m.SubscriptionIDs())
	}

	// Retained messages: retain handling 2 sends none, 0 sends them with
	// RETAIN set; retain as published keeps the flag on live messages.
	if err := other.Publish(ctx, "weather", []byte("sunny"), client.PublishOptions{Retain: true, QoS: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, client.Subscription{Filter: "weather", RetainHandling: 2}); err != nil {
		t.Fatal(err)
	}
	other.Publish(ctx, "weather", []byte("rainy"), client.PublishOptions{Retain: true})
	if m := in.expect(t, "weather", "rainy"); m.Retain {
		t.Errorf("live message forwarded with RETAIN without retain as published [MQTT-3.3.1-12]")
	}
	if _, err := c.Subscribe(ctx, client.Subscription{Filter: "weather", RetainAsPublished: true}); err != nil {
		t.Fatal(err)
	}
	if m := in.expect(t, "weather", "rainy"); !m.Retain {
		t.Errorf("retained message sent at subscribe without RETAIN [MQTT-3.3.1-8]")
	}
	other.Publish(ctx, "weather", []byte("windy"), client.PublishOptions{Retain: true})
	if m := in.expect(t, "weather", "windy"); !m.Retain {
		t.Errorf("retain as published: RETAIN cleared [MQTT-3.3.1-13]")
	}
}

func TestUnsubscribe(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v mqtt.Version) {
		s := brokertest.Start(t, "goroutine", broker.Config{})
		ctx := testContext(t)
		in := newInbox()
		c := dial(t, s.Addr, client.Options{ClientID: "ned", Version: v, Handler: in.handler()})
		codes, err := c.Subscribe(ctx, client.Subscription{Filter: "a"}, client.Subscription{Filter: "b", QoS: 1})
		if err != nil || !slices.Equal(codes, []mqtt.ReasonCode{0, 1}) {
			t.Fatalf("Subscribe: %v %v", codes, err)
		}
		p, err := c.UnsubscribeAsync("a", "never-subscribed")
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(ctx); err != nil {
			t.Fatalf("UNSUBACK: %v", err)
		}
		if v == mqtt.V5 && !slices.Equal(p.Reasons(), []mqtt.ReasonCode{mqtt.Success, mqtt.NoSubscriptionExisted}) {
			t.Errorf("UNSUBACK reasons %v", p.Reasons())
		}
		c.Publish(ctx, "a", []byte("gone"), client.PublishOptions{})
		c.Publish(ctx, "b", []byte("kept"), client.PublishOptions{})
		in.expect(t, "b", "kept")
	})
}

func TestTopicAliasesResolved(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{})
	ctx := testContext(t)
	in := newInbox()
	c := dial(t, s.Addr, client.Options{ClientID: "alias", TopicAliasMaximum: 2, Handler: in.handler()})
	if _, err := c.Subscribe(ctx, client.Subscription{Filter: "#"}); err != nil {
		t.Fatal(err)
	}
	pub := dial(t, s.Addr, client.Options{ClientID: "p"})
	topics := []string{"x/1", "x/2", "x/3", "x/1", "x/2", "x/3", "x/1"}
	for i, topic := range topics {
		pub.Publish(ctx, topic, []byte{byte('0' + i)}, client.PublishOptions{})
	}
	aliased := 0
	for i, topic := range topics {
		m := in.expect(t, topic, string([]byte{byte('0' + i)}))
		if m.Props.Has(mqtt.PropTopicAlias) {
			aliased++
			if m.Props.TopicAlias == 0 || m.Props.TopicAlias > 2 {
				t.Errorf("alias %d out of range", m.Props.TopicAlias)
			}
		}
	}
	if aliased < 5 { // x/1 and x/2 each time: set, then used with an empty topic
		t.Errorf("%d messages came with a topic alias: the resolution was not exercised", aliased)
	}
}

func TestManualFlush(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{})
	ctx := testContext(t)
	in := newInbox()
	sub := dial(t, s.Addr, client.Options{ClientID: "sub", Handler: in.handler()})
	sub.Subscribe(ctx, client.Subscription{Filter: "batch"})
	pub := dial(t, s.Addr, client.Options{ClientID: "pub", ManualFlush: true, WriteBufferSize: 1 << 20})
	for i := range 100 {
		if err := pub.Publish(ctx, "batch", []byte(fmt.Sprint(i)), client.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if pub.Buffered() == 0 {
		t.Fatal("ManualFlush: nothing buffered")
	}
	if err := pub.Flush(); err != nil || pub.Buffered() != 0 {
		t.Fatalf("Flush: %v, %d bytes left", err, pub.Buffered())
	}
	for i := range 100 {
		in.expect(t, "batch", fmt.Sprint(i))
	}
}

// TestReceiveMaximumHonoured publishes many QoS 2 messages at once to a
// broker that allows 2 unreleased ones: it would disconnect a client that
// sent a third before a PUBCOMP [MQTT-3.3.4-9].
func TestReceiveMaximumHonoured(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{ReceiveMaximum: 2})
	ctx := testContext(t)
	c := dial(t, s.Addr, client.Options{ClientID: "flood"})
	var ps []*client.Pending
	for i := range 50 {
		p, err := c.PublishAsync(ctx, "t", []byte(fmt.Sprint(i)), client.PublishOptions{QoS: 2})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		if err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestClientMaximumPacketSize: the broker does not send this client
// messages larger than the client's maximum [MQTT-3.1.2-25].
func TestClientMaximumPacketSize(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{})
	ctx := testContext(t)
	in := newInbox()
	c := dial(t, s.Addr, client.Options{ClientID: "small", MaximumPacketSize: 200, Handler: in.handler()})
	c.Subscribe(ctx, client.Subscription{Filter: "t", QoS: 1})
	c.Publish(ctx, "t", bytes.Repeat([]byte("x"), 500), client.PublishOptions{QoS: 1})
	c.Publish(ctx, "t", []byte("small"), client.PublishOptions{QoS: 1})
	in.expect(t, "t", "small")
}

// TestConcurrentPublishers checks that Publish is safe for concurrent use
// and keeps each publisher's order.
func TestConcurrentPublishers(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{})
	ctx := testContext(t)
	const writers, each = 4, 300
	in := newInbox()
	sub := dial(t, s.Addr, client.Options{ClientID: "sub", Handler: in.handler()})
	sub.Subscribe(ctx, client.Subscription{Filter: "c/+", QoS: 1})
	for _, manual := range []bool{false, true} {
		pub := dial(t, s.Addr, client.Options{ClientID: fmt.Sprint("pub", manual), ManualFlush: manual})
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					err := pub.Publish(ctx, fmt.Sprintf("c/%d", w), []byte(fmt.Sprint(i)), client.PublishOptions{QoS: mqtt.QoS(i % 2)})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if err := pub.Flush(); err != nil {
			t.Fatal(err)
		}
		next := make([]int, writers)
		for range writers * each {
			m := in.next(t)
			var w, i int
			fmt.Sscanf(string(m.Topic), "c/%d", &w)
			fmt.Sscan(string(m.Payload), &i)
			if i != next[w] {
				t.Fatalf("writer %d: got #%d, want #%d", w, i, next[w])
			}
			next[w]++
		}
	}
}

func TestCloneOwnsItsBytes(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{})
	ctx := testContext(t)
	var kept []*client.Message
	var borrowed []*client.Message
	done := make(chan struct{})
	c := dial(t, s.Addr, client.Options{ClientID: "clone", Handler: func(m *client.Message) {
		kept = append(kept, m.Clone())
		borrowed = append(borrowed, m)
		if len(kept) == 3 {
			close(done)
		}
	}})
	c.Subscribe(ctx, client.Subscription{Filter: "t/+"})
	props := &mqtt.Properties{ContentType: []byte("text/plain"), UserProperties: []mqtt.UserProperty{{Key: []byte("k"), Value: []byte("v")}}}
	for i := range 3 {
		c.Publish(ctx, fmt.Sprint("t/", i), []byte(fmt.Sprint("payload ", i)), client.PublishOptions{Props: props})
	}
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("messages did not arrive")
	}
	c.Close()
	for i, m := range kept {
		if string(m.Topic) != fmt.Sprint("t/", i) || string(m.Payload) != fmt.Sprint("payload ", i) ||
			string(m.Props.ContentType) != "text/plain" || len(m.Props.UserProperties) != 1 || string(m.Props.UserProperties[0].Value) != "v" {
			t.Errorf("clone %d: [%s] %q %q %v", i, m.Topic, m.Payload, m.Props.ContentType, m.Props.UserProperties)
		}
	}
	if borrowed[0] != borrowed[2] {
		t.Errorf("the handler's *Message is not reused: the receive path allocates")
	}
}
