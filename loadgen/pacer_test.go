package loadgen

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestConstantPacer(t *testing.T) {
	p := ConstantPacer{Rate: 1000, Duration: 10 * time.Millisecond}
	for n, want := range []time.Duration{0, time.Millisecond, 2 * time.Millisecond} {
		if due, stop := p.Due(uint64(n)); due != want || stop {
			t.Errorf("Due(%d) = %v, %v; want %v, false", n, due, stop, want)
		}
	}
	if _, stop := p.Due(10); !stop {
		t.Error("Due(10) of 10 ms at 1000/s did not stop")
	}
	if _, stop := (ConstantPacer{}).Due(0); !stop {
		t.Error("a zero rate schedules messages")
	}
	if due, stop := (ClosedLoop{Count: 2}).Due(1); due != Unpaced || stop {
		t.Errorf("ClosedLoop.Due(1) = %v, %v", due, stop)
	}
	if _, stop := (ClosedLoop{Count: 2}).Due(2); !stop {
		t.Error("ClosedLoop{Count: 2} did not stop at 2")
	}
}

// TestDriveNoCoordinatedOmission stalls the "target" (send blocks) for
// 100 ms once, early in a 2,000 msgs/s schedule of half a second. Open
// loop, the messages due during the stall go out late, back to back, and
// their latency from the intended time puts the stall in the percentiles:
// about 200 of 1,000 messages are 0 to 100 ms late. A closed-loop sender
// (waiting 1/rate after each send) would record one slow message, and its
// p90 would stay near zero.
func TestDriveNoCoordinatedOmission(t *testing.T) {
	const stall = 100 * time.Millisecond
	h := NewHistogram()
	start := Now()
	var stalled bool
	send := func(n uint64, intended int64) error {
		if n == 100 && !stalled {
			stalled = true
			time.Sleep(stall)
		}
		record(h, Now()-intended) // completion time minus intended time
		return nil
	}
	flushes := 0
	sent, err := Drive(context.Background(), ConstantPacer{Rate: 2000, Duration: 500 * time.Millisecond}, start, send, func() error { flushes++; return nil })
	if err != nil || sent != 1000 {
		t.Fatalf("Drive sent %d, %v; want 1000 messages, no error", sent, err)
	}
	if h.TotalCount() != 1000 {
		t.Fatalf("%d latencies recorded, want 1000", h.TotalCount())
	}
	if p90 := time.Duration(h.ValueAtQuantile(90)); p90 < 30*time.Millisecond {
		t.Errorf("p90 %v: the %v stall is missing from the percentiles (coordinated omission)", p90, stall)
	}
	if p99 := time.Duration(h.ValueAtQuantile(99)); p99 < 80*time.Millisecond {
		t.Errorf("p99 %v, want about %v", p99, stall)
	}
	if flushes < 2 {
		t.Errorf("%d flushes: Drive must flush before it sleeps", flushes)
	}
	if took := time.Duration(Now() - start); took < 490*time.Millisecond {
		t.Errorf("the schedule of 500 ms ended after %v", took)
	}
}

// TestDriveStops: a cancelled context ends the schedule, a failing send
// ends it with its error, and both flush what was sent.
func TestDriveStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	flushed := false
	send := func(n uint64, _ int64) error {
		if n == 5 {
			cancel()
		}
		return nil
	}
	n, err := Drive(ctx, ConstantPacer{Rate: 1e6}, Now(), send, func() error { flushed = true; return nil })
	if !errors.Is(err, context.Canceled) || n < 5 || !flushed {
		t.Errorf("cancelled: sent %d, %v, flushed %v; want context.Canceled after 5+, flushed", n, err, flushed)
	}
	boom := errors.New("boom")
	n, err = Drive(context.Background(), ClosedLoop{}, Now(), func(n uint64, _ int64) error {
		if n == 3 {
			return boom
		}
		return nil
	}, func() error { return nil })
	if !errors.Is(err, boom) || n != 3 {
		t.Errorf("failing send: sent %d, %v; want 3, boom", n, err)
	}
}
