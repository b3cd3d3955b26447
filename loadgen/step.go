package loadgen

import (
	"context"
	"fmt"
	"time"
)

// StepSearch runs the rate-step search of the session's StepConfig: open
// loop phases at rising rates until one is not sustained (p99 above the
// bound, publish rate short by more than 1 %, or a message lost). It
// returns the highest sustained step's result with every step in Steps;
// when no step was sustained, the first step's.
func (s *Session) StepSearch(ctx context.Context, label string) (*Result, error) {
	st := s.cfg.Step
	var best, first *Result
	var steps []StepResult
	rate := st.Start
	for i := 0; i < st.MaxSteps && ctx.Err() == nil; i, rate = i+1, rate*st.Factor {
		r, err := s.Measure(ctx, Phase{Rate: rate, Warmup: s.cfg.Warmup, Duration: s.cfg.Duration,
			Label: fmt.Sprintf("%s step %d: %s msgs/s", label, i+1, FormatCount(rate))})
		if r == nil {
			return best, err
		}
		r.Mode = RateStep
		step := StepResult{TargetRate: rate, PublishRate: r.PublishRate, DeliveryRate: r.DeliveryRate, P99: r.Latency.P99, Lost: r.Lost}
		step.Sustained, step.Why = sustained(r, rate, st.MaxP99)
		steps = append(steps, step)
		if first == nil {
			first = r
		}
		if !step.Sustained || err != nil || r.Incomplete {
			if err != nil {
				return pick(best, first, steps), err
			}
			break
		}
		best = r
	}
	return pick(best, first, steps), nil
}

// sustained judges one step.
func sustained(r *Result, rate float64, maxP99 time.Duration) (bool, string) {
	switch {
	case r.Incomplete:
		return false, "interrupted"
	case r.Lost > 0 || !r.Quiesced:
		return false, fmt.Sprintf("%d lost", r.Lost)
	case r.PublishRate < minRateShare*rate:
		return false, "rate short"
	case r.Latency.P99 > int64(maxP99):
		return false, "p99 over " + maxP99.String()
	}
	return true, ""
}

func pick(best, first *Result, steps []StepResult) *Result {
	r := best
	if r == nil {
		r = first
	}
	if r != nil {
		r.Steps = steps
	}
	return r
}
