package loadgen

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pubsubx/pubsubx/core/client"
	"github.com/pubsubx/pubsubx/core/topics"
)

// Session is a scenario's clients, connected and subscribed, ready for
// measurements (Measure). A Session is used by one goroutine at a time;
// Close releases it.
type Session struct {
	cfg     Config
	plan    *Plan
	ctl     *control
	subs    []*subscriber
	pubs    []*publisher
	streams int
	idle    *idleSet
	broken  error // set when a phase could not settle: no more phases
}

// subscriber is one subscribing client and its recorder.
type subscriber struct {
	spec SubscriberSpec
	rec  *recorder
	mu   sync.Mutex // guards c, swapped by the churn loop
	c    *client.Client
}

func (s *subscriber) client() *client.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c
}

// dialConcurrency bounds the connects in flight while a session opens.
const dialConcurrency = 64

// Connect connects and subscribes the scenario's clients (and opens its
// idle connections). ctx bounds the whole setup.
func Connect(ctx context.Context, cfg Config) (*Session, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.Prefix == "" {
		var b [3]byte
		crand.Read(b[:])
		cfg.Prefix = "lg" + hex.EncodeToString(b[:])
	}
	plan, err := cfg.Scenario.Plan(cfg.Prefix)
	if err != nil {
		return nil, err
	}
	s := &Session{cfg: cfg, plan: plan, ctl: &control{closedLoop: cfg.Mode == MaxRate}}
	s.buildStreams()
	if err := s.connectAll(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// buildStreams numbers the (publisher, topic) streams, counts each one's
// receivers by matching the subscribers' filters with the broker's own
// trie, and creates the recorders and publishers.
func (s *Session) buildStreams() {
	trie := topics.New[int](0)
	for i, sub := range s.plan.Subscribers {
		for _, f := range sub.Filters {
			trie.Subscribe([]byte(f), topics.Sub[int]{Subscriber: i, QoS: byte(s.cfg.QoS)})
		}
	}
	for i, spec := range s.plan.Publishers {
		streams := make([]uint32, len(spec.Topics))
		fanout := make([]uint32, len(spec.Topics))
		for t, topic := range spec.Topics {
			streams[t] = uint32(s.streams)
			s.streams++
			fanout[t] = uint32(len(trie.Match([]byte(topic)).Subs))
		}
		p := newPublisher(i, spec, streams, fanout, s.cfg.Size, s.cfg.QoS, s.cfg.Seed)
		if s.cfg.Mode == MaxRate {
			p.setClosedLoop(s.cfg.Window)
		}
		s.pubs = append(s.pubs, p)
	}
	s.ctl.pubs = s.pubs
	for _, spec := range s.plan.Subscribers {
		s.subs = append(s.subs, &subscriber{spec: spec, rec: newRecorder(s.ctl, s.streams)})
	}
}

// connectAll connects the subscribers, then the publishers, then the idle
// connections.
func (s *Session) connectAll(ctx context.Context) error {
	err := forEach(ctx, len(s.subs), dialConcurrency, func(i int) error {
		sub := s.subs[i]
		c, err := s.dialSubscriber(ctx, sub, true)
		if err != nil {
			return err
		}
		subs := make([]client.Subscription, len(sub.spec.Filters))
		for j, f := range sub.spec.Filters {
			subs[j] = client.Subscription{Filter: f, QoS: s.cfg.QoS}
		}
		if _, err := c.Subscribe(ctx, subs...); err != nil {
			c.Close()
			return fmt.Errorf("loadgen: subscriber %s: %w", sub.spec.ClientID, err)
		}
		sub.mu.Lock()
		sub.c = c
		sub.mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	for i, p := range s.pubs {
		if s.plan.Publishers[i].External {
			continue
		}
		c, err := client.Dial(ctx, s.cfg.Addr, client.Options{
			ClientID: s.plan.Publishers[i].ClientID, Version: s.cfg.Version, CleanStart: true,
			ManualFlush: true, Dialer: s.cfg.Dialer,
		})
		if err != nil {
			return fmt.Errorf("loadgen: publisher %s: %w", s.plan.Publishers[i].ClientID, err)
		}
		p.c = c
	}
	if s.plan.Idle.Connections > 0 {
		idle, err := openIdle(ctx, s.cfg, s.plan.Idle)
		s.idle = idle
		return err
	}
	return nil
}

// dialSubscriber connects sub's client; first marks the first connection
// (later ones, by the churn loop, resume the session).
func (s *Session) dialSubscriber(ctx context.Context, sub *subscriber, first bool) (*client.Client, error) {
	o := client.Options{
		ClientID: sub.spec.ClientID, Version: s.cfg.Version, CleanStart: first,
		ReadBufferSize: s.cfg.ReadBufferSize, Dialer: s.cfg.Dialer, Handler: sub.rec.handle,
	}
	if churn := s.plan.Churn; churn.Share > 0 {
		o.SessionExpiry = churn.Expiry
	}
	c, err := client.Dial(ctx, s.cfg.Addr, o)
	if err != nil {
		return nil, fmt.Errorf("loadgen: subscriber %s: %w", sub.spec.ClientID, err)
	}
	return c, nil
}

// Close disconnects every client of the session. Subscribers of a churn
// scenario end their sessions on the broker.
func (s *Session) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range s.pubs {
		if p.c != nil {
			wg.Go(func() { p.c.Disconnect(ctx) })
		}
	}
	for _, sub := range s.subs {
		if c := sub.client(); c != nil {
			wg.Go(func() { c.DisconnectWith(ctx, client.DisconnectOptions{EndSession: true}) })
		}
	}
	wg.Wait()
	s.idle.close()
}

// forEach runs f(0..n-1) with at most limit calls at once, stopping at the
// first error, which it returns.
func forEach(ctx context.Context, n, limit int, f func(i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := 0; i < n && ctx.Err() == nil; i++ {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(i); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}
