package loadgen

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// A Pacer is the publishing schedule: it says when each message is due.
// The loadgen runs open loop: message n is due at the start plus Due(n)
// whatever happened to the messages before it, and its latency is
// measured from that intended time, so a stalled broker (or loadgen)
// shows up in the percentiles instead of silently slowing the schedule
// down (no coordinated omission).
type Pacer interface {
	// Due returns when message n (counting from 0) is due, as an offset
	// from the start of the run, or Unpaced. stop reports that the
	// schedule ends before message n.
	Due(n uint64) (due time.Duration, stop bool)
}

// Unpaced is the due time of a closed-loop message: it is sent as soon as
// the sender may, and its intended time is its actual send time. Runs made
// of such messages measure the maximum rate, not latency at a rate, and
// are labelled so.
const Unpaced time.Duration = -1

// PacerFunc adapts a function to the Pacer interface.
type PacerFunc func(n uint64) (due time.Duration, stop bool)

// Due calls f(n).
func (f PacerFunc) Due(n uint64) (time.Duration, bool) { return f(n) }

var _ Pacer = PacerFunc(nil)

// ConstantPacer schedules Rate messages per second, evenly spaced, for
// Duration (forever when Duration is 0).
type ConstantPacer struct {
	Rate     float64 // messages per second; <= 0 schedules nothing
	Duration time.Duration
}

var _ Pacer = ConstantPacer{}

// Due implements Pacer: message n is due at n/Rate seconds.
func (p ConstantPacer) Due(n uint64) (time.Duration, bool) {
	if p.Rate <= 0 {
		return 0, true
	}
	due := time.Duration(float64(n) * 1e9 / p.Rate)
	return due, p.Duration > 0 && due >= p.Duration
}

// String describes the schedule, e.g. "constant 100000 msgs/s for 5s".
func (p ConstantPacer) String() string {
	return fmt.Sprintf("constant %.0f msgs/s for %v", p.Rate, p.Duration)
}

// ClosedLoop is the max-rate schedule: every message is Unpaced, Count
// messages (no limit when 0); the run's context or the sender's window
// of messages in flight bounds it.
type ClosedLoop struct{ Count uint64 }

var _ Pacer = ClosedLoop{}

// Due implements Pacer.
func (c ClosedLoop) Due(n uint64) (time.Duration, bool) {
	return Unpaced, c.Count > 0 && n >= c.Count
}

// String describes the schedule.
func (c ClosedLoop) String() string { return "max rate (closed loop)" }

// maxSleep bounds one sleep of Drive, so that it notices a cancelled
// context promptly.
const maxSleep = 10 * time.Millisecond

// spinAhead is how long before a message is due Drive stops sleeping and
// yields in a loop instead: waking from a sleep takes tens of microseconds,
// over a hundred on a virtual machine whose idle CPU halts, and that lag
// would be part of every latency measured.
const spinAhead = 60 * time.Microsecond

// spinShare bounds the time spent yielding in a loop to 5 % of the
// elapsed time (all the publishers of a session together): at high rates
// messages go out back to back anyway, and a loop that yields keeps the
// Go scheduler from polling the network.
const spinShare = 0.05

// spinBudget accounts for the time Drive spends spinning. It is safe for
// concurrent use.
type spinBudget struct {
	start int64
	spent atomic.Int64
}

func newSpinBudget() *spinBudget { return &spinBudget{start: Now()} }

// allow reports whether a spin of d ns stays within the budget.
func (b *spinBudget) allow(d int64) bool {
	return float64(b.spent.Load()+d) <= spinShare*float64(Now()-b.start)+float64(spinAhead)
}

// waitUntil waits until t: it sleeps until spinAhead before t, then, if the
// budget allows, yields in a loop until t, else sleeps again. It returns
// early when done is closed.
func waitUntil(t int64, s *sleeper, b *spinBudget, done <-chan struct{}) {
	for now := Now(); now < t; now = Now() {
		select {
		case <-done:
			return
		default:
		}
		wait := t - now
		if wait > int64(spinAhead) {
			s.sleep(min(time.Duration(wait)-spinAhead, maxSleep))
			continue
		}
		if !b.allow(wait) {
			s.sleep(time.Duration(wait))
			continue
		}
		for Now() < t {
			runtime.Gosched()
		}
		b.spent.Add(Now() - now)
	}
}

// Drive runs p's schedule from start (a Now time): for each message it
// waits until the message is due, then calls send with the message's
// number and intended time. When send is late (a stall), the messages
// that fell due meanwhile are sent back to back, each with its own
// intended time. flush is called before every wait and at the end, so
// that buffered messages leave before Drive sleeps. Drive returns the
// number of messages sent and the first error of send or flush, or
// ctx.Err() when ctx ended the schedule.
func Drive(ctx context.Context, p Pacer, start int64, send func(n uint64, intended int64) error, flush func() error) (uint64, error) {
	return drive(ctx, p, start, send, flush, newSpinBudget())
}

// drive is Drive with the spin budget it shares with other publishers.
func drive(ctx context.Context, p Pacer, start int64, send func(n uint64, intended int64) error, flush func() error, budget *spinBudget) (uint64, error) {
	s := newSleeper()
	defer s.close()
	done := ctx.Done()
	if waitUntil(start, s, budget, done); ctx.Err() != nil {
		return 0, ctx.Err()
	}
	var n uint64
	dirty := false
	finish := func(err error) (uint64, error) {
		if dirty {
			if ferr := flush(); err == nil {
				err = ferr
			}
		}
		return n, err
	}
	for ; ; n++ {
		due, stop := p.Due(n)
		if stop {
			return finish(nil)
		}
		var intended int64
		if due == Unpaced {
			intended = Now()
		} else {
			intended = start + int64(due)
			if Now() < intended {
				if dirty {
					if err := flush(); err != nil {
						return n, err
					}
					dirty = false
				}
				if waitUntil(intended, s, budget, done); ctx.Err() != nil {
					return n, ctx.Err()
				}
			}
		}
		if n%64 == 0 {
			select {
			case <-done:
				return finish(ctx.Err())
			default:
			}
		}
		if err := send(n, intended); err != nil {
			return finish(err)
		}
		dirty = true
	}
}
