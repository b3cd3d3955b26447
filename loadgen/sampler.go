package loadgen

import (
	"context"
	"runtime"
	"time"
)

// sampler reads the broker's and the loadgen's CPU and memory at the
// start and the end of the measurement window, on its own goroutine.
type sampler struct {
	pid       int
	delivered func() int64
	first     chan sample // the window's start
	last      chan sample // its end, unless the end is only known later
}

type sample struct {
	wall      time.Time
	delivered int64 // the session's deliveries so far
	broker    ProcStat
	self      ProcStat
	mem       runtime.MemStats
}

func takeSample(pid int, delivered func() int64) *sample {
	s := &sample{wall: time.Now(), delivered: delivered(), self: readSelf()}
	if pid > 0 {
		s.broker, _ = ReadProcess(pid)
	}
	runtime.ReadMemStats(&s.mem)
	return s
}

// windowUsage is what the broker and the loadgen used over a window.
type windowUsage struct {
	arrivals int64 // deliveries made within the window
	broker   *Usage
	loadgen  Usage
	runtime  GoRuntime
}

// startSampler samples at winStart and, unless openEnd, at winEnd.
// When ctx ends, it samples at once.
func startSampler(ctx context.Context, pid int, delivered func() int64, winStart, winEnd int64, openEnd bool) *sampler {
	sm := &sampler{pid: pid, delivered: delivered, first: make(chan sample, 1), last: make(chan sample, 1)}
	go func() {
		sleepUntil(ctx, winStart)
		sm.first <- *takeSample(pid, delivered)
		if !openEnd {
			sleepUntil(ctx, winEnd)
			sm.last <- *takeSample(pid, delivered)
		}
	}()
	return sm
}

// sleepUntil sleeps until t (a Now time) or until ctx ends.
func sleepUntil(ctx context.Context, t int64) {
	d := time.Duration(t - Now())
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// finish returns the usage between the two samples, taking the second
// now for an open-ended window.
func (sm *sampler) finish(openEnd bool) windowUsage {
	a := <-sm.first
	var b sample
	if openEnd {
		b = *takeSample(sm.pid, sm.delivered)
	} else {
		b = <-sm.last
	}
	wall := b.wall.Sub(a.wall)
	u := windowUsage{arrivals: b.delivered - a.delivered, loadgen: usageBetween(a.self, b.self, wall), runtime: goRuntimeBetween(&a.mem, &b.mem)}
	if sm.pid > 0 && a.broker.RSS > 0 && b.broker.RSS > 0 {
		bu := usageBetween(a.broker, b.broker, wall)
		u.broker = &bu
	}
	return u
}
