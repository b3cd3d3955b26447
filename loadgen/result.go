package loadgen

import (
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Result is one measurement: what was sent and delivered in its window,
// the latency distributions, and what the broker and the loadgen used.
// Latencies are in nanoseconds.
type Result struct {
	Mode       Mode    `json:"mode"`
	TargetRate float64 `json:"target_rate,omitempty"` // open loop, msgs/s
	WindowSecs float64 `json:"window_seconds"`

	Sent        int64   `json:"sent"` // messages sent in the window
	PublishRate float64 `json:"publish_rate"`
	Expected    int64   `json:"expected_deliveries"` // of every message of the phase
	Delivered   int64   `json:"deliveries"`          // of every message of the phase
	Measured    int64   `json:"measured_deliveries"` // of the messages sent in the window
	// DeliveryRate is the deliveries made within the window (of any
	// message) per second: a broker falling behind shows here too.
	DeliveryRate float64 `json:"delivery_rate"`

	Lost       int64 `json:"lost"`
	Duplicates int64 `json:"duplicates"`
	Reordered  int64 `json:"reordered"`
	Malformed  int64 `json:"malformed,omitempty"`
	// Last-subscriber tracking: fan-outs not complete when their slot was
	// reused, and arrivals too late to be matched.
	IncompleteFanouts int64 `json:"incomplete_fanouts,omitempty"`
	UntrackedArrivals int64 `json:"untracked_arrivals,omitempty"`
	WindowStalls      int64 `json:"window_stalls,omitempty"` // max rate: waits that timed out
	// BlockedSecs is the longest time a publisher spent held up by the
	// broker (writes blocked by TCP flow control, QoS 1/2 slots not
	// freed): back pressure, not the loadgen's slowness.
	BlockedSecs float64 `json:"publisher_blocked_seconds,omitempty"`
	// Overran: the publishers were still sending a drain time after their
	// schedule's end, held up by the broker, and were closed.
	Overran bool `json:"overran,omitempty"`

	Latency        Summary  `json:"latency"`          // per delivery
	LastSubscriber Summary  `json:"last_subscriber"`  // per fan-out: until its last receiver has it
	PublisherLag   Summary  `json:"publisher_lag"`    // actual minus intended send time
	Queued         *Summary `json:"queued,omitempty"` // churn: messages sent while their receiver was away

	Broker  *Usage    `json:"broker,omitempty"`
	Loadgen Usage     `json:"loadgen"`
	Runtime GoRuntime `json:"loadgen_runtime"`

	Idle  *IdleResult  `json:"idle,omitempty"`
	Churn *ChurnResult `json:"churn,omitempty"`
	Steps []StepResult `json:"steps,omitempty"` // rate-step: every step, the last one failed

	// Quiesced: every expected delivery arrived before the drain ended.
	Quiesced   bool `json:"quiesced"`
	Incomplete bool `json:"incomplete,omitempty"` // interrupted
	// LoadgenBound: this number may be the loadgen's, not the broker's;
	// Warnings say why (and anything else worth knowing).
	LoadgenBound bool     `json:"loadgen_bound"`
	Warnings     []string `json:"warnings,omitempty"`

	// The histograms behind the summaries (not in JSON: the output
	// writer encodes them).
	LatencyHist        *hdrhistogram.Histogram `json:"-"`
	LastSubscriberHist *hdrhistogram.Histogram `json:"-"`
	PublisherLagHist   *hdrhistogram.Histogram `json:"-"`
}

// StepResult is one step of a rate-step search.
type StepResult struct {
	TargetRate   float64 `json:"target_rate"`
	PublishRate  float64 `json:"publish_rate"`
	DeliveryRate float64 `json:"delivery_rate"`
	P99          int64   `json:"p99_ns"`
	Lost         int64   `json:"lost"`
	Sustained    bool    `json:"sustained"`
	Why          string  `json:"why,omitempty"`
}

// ChurnResult counts the churn loop's work.
type ChurnResult struct {
	Rounds     int    `json:"rounds"`
	Drops      int    `json:"drops"`
	Resumed    int    `json:"resumed"`
	NotResumed int    `json:"not_resumed"` // reconnected without the session
	Failed     int    `json:"failed"`      // could not reconnect
	FirstError string `json:"first_error,omitempty"`
}

// Thresholds of the loadgen-bound judgement.
const (
	minRateShare    = 0.99 // achieved publish rate under 99 % of the target
	maxLagShare     = 0.5  // publisher lag p99 at half the latency p99 or more
	maxLoadgenCPU   = 0.9  // loadgen CPU at 90 % of its cores or more
	maxCeilingShare = 0.9  // delivery rate at 90 % of the loadgen's ceiling or more
	maxBlockedShare = 0.05 // publishers blocked by the broker 5 % of the window or more
)

// Judge flags r as loadgen-bound, with the reasons in r.Warnings, when the
// loadgen rather than the broker may have set the numbers: a paced
// publish rate under 99 % of the target, a publisher lag p99 not well
// below the latency p99, a saturated loadgen CPU, or a delivery rate close
// to the loadgen's own ceiling (msgs/s, see Ceiling.Limit; 0 when
// unknown). Publishers held up by the broker (BlockedSecs over 5 % of the
// window: TCP back pressure) lower the rate and raise the lag because of
// the broker, so the rate and lag rules then do not apply. It also warns
// about overruns and lost, duplicate and reordered messages.
func (r *Result) Judge(ceiling float64) {
	bound := func(format string, args ...any) {
		r.LoadgenBound = true
		r.Warnings = append(r.Warnings, "loadgen-bound: "+fmt.Sprintf(format, args...))
	}
	paced := r.Mode != MaxRate
	if r.Overran {
		r.Warnings = append(r.Warnings, ErrOverrun.Error()+": the unsent messages are missing from the publish rate")
	}
	if pushedBack := r.BlockedSecs >= maxBlockedShare*r.WindowSecs; pushedBack {
		// The broker held the publishers up: their rate and lag are its.
		r.Warnings = append(r.Warnings, fmt.Sprintf("broker back pressure: a publisher spent %.2fs of the %.2fs window blocked on the broker", r.BlockedSecs, r.WindowSecs))
		paced = false
	}
	if paced && r.TargetRate > 0 && r.PublishRate < minRateShare*r.TargetRate {
		bound("publish rate %.0f msgs/s is under 99%% of the target %.0f", r.PublishRate, r.TargetRate)
	}
	if paced && r.Latency.Count > 0 && float64(r.PublisherLag.P99) >= maxLagShare*float64(r.Latency.P99) {
		bound("publisher lag p99 %s is not well below latency p99 %s", FormatNs(r.PublisherLag.P99), FormatNs(r.Latency.P99))
	}
	if procs := max(r.Runtime.GOMAXPROCS, 1); r.Loadgen.CPU >= maxLoadgenCPU*float64(procs) {
		bound("loadgen CPU %.0f%% of its %d core(s)", 100*r.Loadgen.CPU/float64(procs), procs)
	}
	if ceiling > 0 && r.DeliveryRate >= maxCeilingShare*ceiling {
		bound("delivery rate %.0f msgs/s is within 10%% of the loadgen's ceiling %.0f", r.DeliveryRate, ceiling)
	}
	if r.Lost > 0 || r.Reordered > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d messages lost, %d reordered", r.Lost, r.Reordered))
	}
	if r.Duplicates > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d duplicates (QoS 1 redeliveries are flagged DUP)", r.Duplicates))
	}
	if r.Incomplete {
		r.Warnings = append(r.Warnings, "interrupted: partial measurement")
	}
}

// FormatNs prints a duration in ns with three significant digits and a
// unit: 850ns, 12.3µs, 1.25ms, 2.00s.
func FormatNs(ns int64) string { return scaled(float64(ns), [4]string{"ns", "µs", "ms", "s"}) }

// FormatCount prints a count or rate compactly: 950, 12.5k, 3.20M, 1.50G.
func FormatCount(v float64) string { return scaled(v, [4]string{"", "k", "M", "G"}) }

// scaled prints v in the largest of the units 1, 1e3, 1e6, 1e9 (named by
// suffixes) that it reaches, with three significant digits.
func scaled(v float64, suffixes [4]string) string {
	if v < 1000 {
		return fmt.Sprintf("%.0f%s", v, suffixes[0])
	}
	i, f := 1, 1e3
	for ; i < 3 && v >= f*1000; i, f = i+1, f*1000 {
	}
	return sig3(v/f) + suffixes[i]
}

// sig3 prints v (1 <= v < 1000) with three significant digits.
func sig3(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}
