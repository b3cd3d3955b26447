package loadgen

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Phase is one measurement of a Session: a warm-up, then the measured
// window, then a drain.
type Phase struct {
	// Rate is the open-loop publish rate, msgs/s, all publishers together;
	// 0 runs closed loop (the session must have been connected in MaxRate
	// mode).
	Rate     float64
	Warmup   time.Duration
	Duration time.Duration
	// Count, in closed loop, ends the phase after Count messages per
	// publisher instead of after Duration; the window then lasts until
	// the last delivery.
	Count uint64
	// Label names the phase in status lines.
	Label string
}

// ErrSessionBroken is returned by Measure after a phase whose subscribers
// had to be closed to read their state: deliveries were missing, or the
// churn left them in doubt.
var ErrSessionBroken = errors.New("loadgen: session closed after an unsettled phase")

// Errors of Measure and StartBurst.
var (
	ErrNotMaxRate         = errors.New("loadgen: a closed-loop phase needs a session connected in max-rate mode")
	ErrExternalPublishers = errors.New("loadgen: the scenario's publishers are external (measure it with MeasureCeiling)")
)

// startDelay leaves the publishers' goroutines time to start before the
// first message is due.
const startDelay = 10 * time.Millisecond

// Measure runs one phase and returns its Result (not yet judged: see
// Result.Judge). When ctx ends early the result is marked Incomplete and
// still returned.
func (s *Session) Measure(ctx context.Context, ph Phase) (*Result, error) {
	pr, err := s.begin(ctx, ph, startDelay, ph.Count > 0)
	if err != nil {
		return nil, err
	}
	overran, err := s.publish(ctx, ph, pr.start, pr.winEnd)
	r, err := pr.finish(err)
	if r != nil && overran {
		r.Overran = true
	}
	return r, err
}

// phaseRun is a phase in progress.
type phaseRun struct {
	s                            *Session
	ctx                          context.Context
	ph                           Phase
	start, winStart, winEnd      int64
	openEnd                      bool // the window ends when the deliveries are in
	delivered0, expected0, sent0 int64
	sampler                      *sampler
	stopStatus                   func()
	churn                        *churner
}

// begin starts a phase whose first message is due after delay. An openEnd
// phase has no warm-up and a window that lasts until its deliveries are in.
func (s *Session) begin(ctx context.Context, ph Phase, delay time.Duration, openEnd bool) (*phaseRun, error) {
	if s.broken != nil {
		return nil, s.broken
	}
	if ph.Rate <= 0 && !s.ctl.closedLoop {
		return nil, ErrNotMaxRate
	}
	for _, spec := range s.plan.Publishers {
		if spec.External {
			return nil, ErrExternalPublishers
		}
	}
	pr := &phaseRun{s: s, ctx: ctx, ph: ph, start: Now() + int64(delay), openEnd: openEnd}
	pr.winStart, pr.winEnd = pr.start+int64(ph.Warmup), pr.start+int64(ph.Warmup+ph.Duration)
	if openEnd {
		pr.winStart, pr.winEnd = pr.start, 1<<62
	}
	for _, sub := range s.subs {
		sub.rec.resetPhase()
	}
	for _, p := range s.pubs {
		clearHistogram(p.lag)
		p.stalls, p.blocked = 0, 0
		p.windowStart, p.windowEnd = pr.winStart, pr.winEnd
		if p.tracker != nil {
			p.tracker.take()
		}
	}
	s.ctl.phase.Add(1) // publishes the resets to the recorders
	pr.delivered0, pr.expected0, pr.sent0 = s.delivered(), s.expected(), s.sent()
	pr.sampler = startSampler(ctx, s.cfg.BrokerPID, s.delivered, pr.winStart, pr.winEnd, openEnd)
	pr.stopStatus = s.startStatus(ph.Label)
	if s.plan.Churn.Share > 0 {
		pr.churn = s.startChurn(ctx)
	}
	return pr, nil
}

// finish ends the phase once the publishers are done (sendErr is theirs):
// it waits for the deliveries, then collects the result.
func (pr *phaseRun) finish(sendErr error) (*Result, error) {
	s := pr.s
	churned := pr.churn.stop()
	interrupted := pr.ctx.Err() != nil
	quiesced := s.drain()
	pr.stopStatus()
	winEnd := pr.winEnd
	if pr.openEnd {
		winEnd = Now()
	}
	usage := pr.sampler.finish(pr.openEnd)
	if !quiesced || pr.churn != nil {
		// Deliveries may still come: close the subscribers, whose ended
		// readers then publish their state to this goroutine.
		s.closeSubscribers()
		s.broken = ErrSessionBroken
	}
	r := s.collect(time.Duration(winEnd - pr.winStart))
	r.Mode, r.TargetRate = s.cfg.Mode, pr.ph.Rate
	if pr.ph.Rate <= 0 {
		r.Mode = MaxRate
	} else if r.Mode != RateStep {
		r.Mode = OpenLoop
	}
	r.Delivered = s.delivered() - pr.delivered0
	r.Expected = s.expected() - pr.expected0
	r.Lost = max(0, r.Expected-(r.Delivered-r.Duplicates-r.Malformed))
	r.Quiesced, r.Incomplete = quiesced, interrupted
	r.Broker, r.Loadgen, r.Runtime = usage.broker, usage.loadgen, usage.runtime
	r.Churn = churned
	if s.idle != nil {
		idle := s.idle.result
		r.Idle = &idle
	}
	if pr.openEnd {
		r.Sent = s.sent() - pr.sent0
		r.PublishRate = float64(r.Sent) / r.WindowSecs
	}
	if r.WindowSecs > 0 {
		r.DeliveryRate = float64(usage.arrivals) / r.WindowSecs
	}
	if sendErr != nil && !interrupted {
		return r, sendErr
	}
	return r, nil
}

// Burst is a closed-loop phase whose messages the caller sends one at a
// time (Send), as a go test benchmark's loop does; Finish waits for the
// deliveries and returns the result, its window running from the start
// to the last delivery. A Burst is used by one goroutine.
type Burst struct {
	pr   *phaseRun
	next int      // the publisher sending next
	n    []uint64 // messages sent by each publisher
	err  error
}

// StartBurst starts a Burst. The session must have been connected in
// MaxRate mode: each publisher keeps at most Config.Window deliveries in
// flight.
func (s *Session) StartBurst(ctx context.Context) (*Burst, error) {
	pr, err := s.begin(ctx, Phase{Label: "burst"}, 0, true)
	if err != nil {
		return nil, err
	}
	return &Burst{pr: pr, n: make([]uint64, len(s.pubs))}, nil
}

// Send publishes the next message, from the publishers in turn, waiting
// while the publisher's window is full.
func (b *Burst) Send() error {
	if b.err != nil {
		return b.err
	}
	i := b.next
	b.next = (i + 1) % len(b.n)
	b.err = b.pr.s.pubs[i].send(b.n[i], Now())
	b.n[i]++
	return b.err
}

// Finish flushes the publishers, waits for the deliveries and returns the
// result.
func (b *Burst) Finish() (*Result, error) {
	err := b.err
	for _, p := range b.pr.s.pubs {
		if ferr := p.flush(); err == nil {
			err = ferr
		}
	}
	return b.pr.finish(err)
}

// ErrOverrun is wrapped in Result.Warnings when the publishers were still
// sending a Drain after their schedule's end, held up by the broker: they
// were closed, and the session with them.
var ErrOverrun = errors.New("loadgen: publishers overran their schedule (the broker stopped reading)")

// publish drives every publisher through the phase and waits for them. A
// paced phase's publishers still running a Drain after the schedule's end
// are closed (overran); so is everything else when ctx ends.
func (s *Session) publish(ctx context.Context, ph Phase, start, winEnd int64) (overran bool, err error) {
	n := len(s.pubs)
	if ph.Rate <= 0 && ph.Count == 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Duration(winEnd-Now())))
		defer cancel()
	}
	errs := make([]error, n)
	budget := newSpinBudget()
	var wg sync.WaitGroup
	for i, p := range s.pubs {
		var pacer Pacer = ClosedLoop{Count: ph.Count}
		if ph.Rate > 0 {
			// Publisher i sends messages i, i+n, i+2n... of one schedule
			// at Rate: the publishers interleave evenly.
			total := ConstantPacer{Rate: ph.Rate, Duration: ph.Warmup + ph.Duration}
			pacer = PacerFunc(func(k uint64) (time.Duration, bool) { return total.Due(k*uint64(n) + uint64(i)) })
		}
		wg.Go(func() {
			_, err := drive(ctx, pacer, start, p.send, p.flush, budget)
			if !errors.Is(err, context.DeadlineExceeded) || ph.Rate > 0 {
				errs[i] = err
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var overrun <-chan time.Time
	if ph.Count == 0 {
		t := time.NewTimer(time.Duration(winEnd-Now()) + s.cfg.Drain)
		defer t.Stop()
		overrun = t.C
	}
	select {
	case <-done:
		return false, errors.Join(errs...)
	case <-overrun:
	case <-ctx.Done():
	}
	// A publisher blocked in a write to the broker does not see ctx:
	// closing its connection ends the write.
	for _, p := range s.pubs {
		if p.c != nil {
			p.c.Close()
		}
	}
	<-done
	s.broken = ErrSessionBroken
	return ctx.Err() == nil, nil
}

// drain waits until every expected delivery has arrived and no other has
// come for a moment, for at most the run's Drain, or until deliveries stop
// coming for a second. It reports whether they all came.
func (s *Session) drain() bool {
	const poll = 5 * time.Millisecond
	deadline := time.Now().Add(s.cfg.Drain)
	quiet := min(s.cfg.Drain, time.Second)
	last, lastChange := s.delivered(), time.Now()
	settled := 0
	for {
		d := s.delivered()
		if d != last {
			last, lastChange, settled = d, time.Now(), 0
		}
		if d >= s.expected() {
			if settled++; settled >= 10 { // 50 ms without a stray delivery
				return true
			}
		}
		if now := time.Now(); now.After(deadline) || now.Sub(lastChange) > quiet {
			return d >= s.expected()
		}
		time.Sleep(poll)
	}
}

// closeSubscribers closes every subscriber's connection (abruptly: their
// sessions are no longer needed).
func (s *Session) closeSubscribers() {
	var wg sync.WaitGroup
	for _, sub := range s.subs {
		if c := sub.client(); c != nil {
			wg.Go(func() { c.Close() })
		}
	}
	wg.Wait()
}

// collect merges the recorders' and trackers' state of the phase. It runs
// when no delivery is in progress (see finish).
func (s *Session) collect(window time.Duration) *Result {
	r := &Result{WindowSecs: window.Seconds()}
	lat, queued := NewHistogram(), NewHistogram()
	for _, sub := range s.subs {
		rec := sub.rec
		rec.flushRun()
		lat.Merge(rec.latency)
		if rec.queued != nil {
			queued.Merge(rec.queued)
		}
		c := &rec.counts
		r.Measured += c.Measured
		r.Duplicates += c.Duplicates
		r.Reordered += c.Reordered
		r.Malformed += c.Malformed
	}
	last, lag := NewHistogram(), NewHistogram()
	tracked := false
	for _, p := range s.pubs {
		lag.Merge(p.lag)
		r.Sent += p.lag.TotalCount()
		r.WindowStalls += p.stalls
		r.BlockedSecs = max(r.BlockedSecs, time.Duration(p.blocked).Seconds())
		if p.tracker != nil {
			h, incomplete, untracked := p.tracker.take()
			last.Merge(h)
			r.IncompleteFanouts += incomplete
			r.UntrackedArrivals += untracked
			tracked = true
		}
	}
	if !tracked { // one receiver per message: its last is its only one
		last = lat
	}
	r.LatencyHist, r.LastSubscriberHist, r.PublisherLagHist = lat, last, lag
	r.Latency, r.LastSubscriber, r.PublisherLag = Summarize(lat), Summarize(last), Summarize(lag)
	if queued.TotalCount() > 0 {
		q := Summarize(queued)
		r.Queued = &q
	}
	if r.WindowSecs > 0 {
		r.PublishRate = float64(r.Sent) / r.WindowSecs
	}
	return r
}

func (s *Session) delivered() int64 {
	var n int64
	for _, sub := range s.subs {
		n += sub.rec.delivered.Load()
	}
	return n
}

func (s *Session) expected() int64 {
	var n int64
	for _, p := range s.pubs {
		n += p.expected.Load()
	}
	return n
}

func (s *Session) sent() int64 {
	var n int64
	for _, p := range s.pubs {
		n += p.sent.Load()
	}
	return n
}
