package loadgen

import (
	"context"
	"fmt"
	"time"
)

// Comparison is a comparison of targets under one workload: the trials are
// interleaved across the targets (A B C A B C ...), each trial on a freshly
// started broker, after a measurement of the loadgen's own ceiling.
type Comparison struct {
	Workload Config // the workload and measurement; Addr and BrokerPID are set per trial
	Targets  []TargetSpec
	Trials   int
	Launcher *Launcher
	// Ceiling: the flooding sink's subscribers and message size, and the
	// warm-up and duration of the measurement (0: not measured).
	CeilingSubscribers, CeilingSize int
	CeilingWarmup, CeilingDuration  time.Duration
	// Record receives the targets, the ceiling and the trials; the caller
	// fills in the rest (command, machine, commit, pinning, settings).
	Record *RunRecord
	// Progress receives a line per event; Checkpoint is called after each
	// trial, to write the results so far.
	Progress   func(string)
	Checkpoint func(*RunRecord) error
}

// Run runs the comparison. When ctx ends, the trial in progress is
// recorded as incomplete, the record is marked Incomplete and Run returns
// ctx's error.
func (c *Comparison) Run(ctx context.Context) error {
	rec := c.Record
	progress := func(format string, args ...any) {
		if c.Progress != nil {
			c.Progress(fmt.Sprintf(format, args...))
		}
	}
	if c.CeilingDuration > 0 {
		progress("measuring the loadgen's ceiling: %d subscribers, %d B messages, flooding sink", c.CeilingSubscribers, c.CeilingSize)
		ceil, err := c.measureCeiling(ctx)
		if err != nil {
			rec.CeilingError = err.Error()
			progress("ceiling: %v", err)
		} else {
			rec.Ceiling = ceil
			progress("ceiling: %s msgs/s, loadgen CPU %.0f%%", FormatCount(ceil.Rate), 100*ceil.Loadgen.CPU)
		}
	}
	for _, spec := range c.Targets {
		t := TargetRecord{Name: spec.Name, Kind: spec.Kind}
		if spec.Kind == KindExternal {
			t.Addr = spec.Addr
		}
		rec.Targets = append(rec.Targets, t)
	}
	ceiling := rec.Ceiling.Limit()
	for trial := 1; trial <= c.Trials; trial++ {
		for _, spec := range c.Targets {
			if ctx.Err() != nil {
				rec.Incomplete = true
				return ctx.Err()
			}
			label := fmt.Sprintf("%s trial %d/%d", spec.Name, trial, c.Trials)
			res, proc, err := c.runTrial(ctx, spec, label)
			if proc != nil {
				c.noteTarget(spec, proc)
			}
			if res != nil {
				res.Judge(ceiling)
				if res.Incomplete {
					rec.Incomplete = true
				}
				progress("%s: published %s/s, delivered %s/s, p50 %s, p99 %s, lost %d%s", label,
					FormatCount(res.PublishRate), FormatCount(res.DeliveryRate), FormatNs(res.Latency.P50),
					FormatNs(res.Latency.P99), res.Lost, boundNote(res))
			}
			if err != nil {
				progress("%s: %v", label, err)
			}
			rec.Trials = append(rec.Trials, NewTrialRecord(spec.Name, trial, res, err))
			rec.Finished = time.Now()
			if c.Checkpoint != nil {
				if err := c.Checkpoint(rec); err != nil {
					return err
				}
			}
		}
	}
	if ctx.Err() != nil {
		rec.Incomplete = true
	}
	return ctx.Err()
}

func boundNote(r *Result) string {
	if r.LoadgenBound {
		return " (LOADGEN-BOUND)"
	}
	return ""
}

// runTrial starts the target, measures it and stops it.
func (c *Comparison) runTrial(ctx context.Context, spec TargetSpec, label string) (*Result, *Process, error) {
	proc, err := c.Launcher.Start(ctx, spec)
	if err != nil {
		return nil, nil, err
	}
	defer proc.Stop()
	cfg := c.Workload
	cfg.Addr, cfg.BrokerPID = proc.Addr, proc.PID
	res, err := Trial(ctx, cfg, label)
	if err != nil && proc.cmd != nil {
		select {
		case <-proc.exited:
			err = fmt.Errorf("%w (broker exited: %v)\n%s", err, proc.waitErr, proc.Output())
		default:
		}
	}
	return res, proc, err
}

// Trial connects cfg's scenario to cfg.Addr, runs its measurement (one
// phase, or the rate-step search) and disconnects.
func Trial(ctx context.Context, cfg Config, label string) (*Result, error) {
	s, err := Connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	cfg = s.cfg // with defaults
	if cfg.Mode == RateStep {
		return s.StepSearch(ctx, label)
	}
	rate := cfg.Rate
	if cfg.Mode == MaxRate {
		rate = 0
	}
	return s.Measure(ctx, Phase{Rate: rate, Warmup: cfg.Warmup, Duration: cfg.Duration, Label: label})
}

// noteTarget records how a target was started.
func (c *Comparison) noteTarget(spec TargetSpec, p *Process) {
	for i := range c.Record.Targets {
		if t := &c.Record.Targets[i]; t.Name == spec.Name && t.Command == nil {
			t.Command, t.Version = p.Command, p.Version
		}
	}
}

func (c *Comparison) measureCeiling(ctx context.Context) (*Ceiling, error) {
	sink, err := c.Launcher.StartSink(ctx, c.CeilingSize)
	if err != nil {
		return nil, err
	}
	defer sink.Stop()
	return MeasureCeiling(ctx, sink.Addr, c.CeilingSubscribers, c.CeilingSize, c.CeilingWarmup, c.CeilingDuration)
}
