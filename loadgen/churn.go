package loadgen

import (
	"context"
	"sync"
	"time"
)

// churner drops subscribers abruptly and reconnects them while a phase
// runs (the lost-client churn scenario).
type churner struct {
	s      *Session
	done   chan struct{}
	ended  chan struct{}
	wg     sync.WaitGroup // the drops in progress
	mu     sync.Mutex
	result ChurnResult
	away   []bool // by subscriber, guarded by mu
}

// startChurn starts the churn loop: every Every, the next Share of the
// subscribers (in turn) is dropped and comes back after Away.
func (s *Session) startChurn(ctx context.Context) *churner {
	ch := &churner{s: s, done: make(chan struct{}), ended: make(chan struct{}), away: make([]bool, len(s.subs))}
	spec := s.plan.Churn
	perRound := max(1, int(spec.Share*float64(len(s.subs))))
	go func() {
		defer close(ch.ended)
		t := time.NewTicker(spec.Every)
		defer t.Stop()
		next := 0
		for {
			select {
			case <-ch.done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			ch.mu.Lock()
			ch.result.Rounds++
			ch.mu.Unlock()
			for range perRound {
				ch.drop(ctx, next)
				next = (next + 1) % len(s.subs)
			}
		}
	}()
	return ch
}

// drop closes subscriber i's connection without DISCONNECT and reconnects
// it after Away, unless it is away already.
func (ch *churner) drop(ctx context.Context, i int) {
	ch.mu.Lock()
	if ch.away[i] {
		ch.mu.Unlock()
		return
	}
	ch.away[i] = true
	ch.result.Drops++
	ch.mu.Unlock()
	sub := ch.s.subs[i]
	ch.wg.Go(func() {
		if c := sub.client(); c != nil {
			c.Close() // its reader has ended when Close returns
		}
		select {
		case <-time.After(ch.s.plan.Churn.Away):
		case <-ctx.Done():
		}
		// Messages due before now were sent, or queued, while it was away.
		sub.rec.awayUntil = Now()
		c, err := ch.s.dialSubscriber(context.WithoutCancel(ctx), sub, false)
		ch.mu.Lock()
		defer ch.mu.Unlock()
		ch.away[i] = false
		switch {
		case err != nil:
			ch.result.Failed++
			if ch.result.FirstError == "" {
				ch.result.FirstError = err.Error()
			}
			return
		case c.SessionPresent():
			ch.result.Resumed++
		default:
			ch.result.NotResumed++
		}
		sub.mu.Lock()
		sub.c = c
		sub.mu.Unlock()
	})
}

// stop ends the loop, waits for the subscribers away to come back and
// returns the counts (nil for a nil churner).
func (ch *churner) stop() *ChurnResult {
	if ch == nil {
		return nil
	}
	close(ch.done)
	<-ch.ended
	ch.wg.Wait()
	r := ch.result
	return &r
}
