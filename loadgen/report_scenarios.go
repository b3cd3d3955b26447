package loadgen

import (
	"fmt"
	"math"
	"strings"
)

// The report's scenario-specific tables.

func writeIdle(b *strings.Builder, r *RunRecord, names []string) {
	b.WriteString("## Idle connections\n\nBroker resident memory before and after opening the idle connections (settled), and the probe flow's latency while they are open.\n\n" +
		"| Target | Connected | Connect time | RSS before | RSS after | Per connection | Probe p50 | Probe p99 |\n|---|--:|--:|--:|--:|--:|--:|--:|\n")
	idle := func(f func(*IdleResult) float64) metric {
		return func(x *Result) float64 {
			if x.Idle == nil {
				return math.NaN()
			}
			return f(x.Idle)
		}
	}
	for _, n := range names {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", n,
			cell(r.spreadFor(n, idle(func(i *IdleResult) float64 { return float64(i.Connected) })), func(v float64) string { return fmt.Sprintf("%.0f", v) }),
			cell(r.spreadFor(n, idle(func(i *IdleResult) float64 { return i.ConnectSecs })), func(v float64) string { return fmt.Sprintf("%.1fs", v) }),
			bytesCell(r.spreadFor(n, idle(func(i *IdleResult) float64 { return nanIfZero(float64(i.RSSBefore)) }))),
			bytesCell(r.spreadFor(n, idle(func(i *IdleResult) float64 { return nanIfZero(float64(i.RSSAfter)) }))),
			bytesCell(r.spreadFor(n, idle(func(i *IdleResult) float64 { return nanIfZero(i.PerConnection) }))),
			nsCell(r.spreadFor(n, func(x *Result) float64 { return float64(x.Latency.P50) })),
			nsCell(r.spreadFor(n, func(x *Result) float64 { return float64(x.Latency.P99) })))
	}
	b.WriteString("\n")
}

func writeChurn(b *strings.Builder, r *RunRecord, names []string) {
	b.WriteString("## Churn\n\nSubscribers dropped without DISCONNECT and reconnected within their session expiry. " +
		"Every message must still arrive, in order; \"queued\" is the latency of the messages sent while their subscriber was away: how late they came.\n\n" +
		"| Target | Drops | Resumed | Not resumed | Failed | Queued p50 | Queued p99 | Queued max | Lost | Reordered |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, n := range names {
		var drops, resumed, notResumed, failed int
		var lost, reord int64
		for _, t := range r.TrialsOf(n) {
			x := t.Result
			lost, reord = lost+x.Lost, reord+x.Reordered
			if c := x.Churn; c != nil {
				drops, resumed, notResumed, failed = drops+c.Drops, resumed+c.Resumed, notResumed+c.NotResumed, failed+c.Failed
			}
		}
		queued := func(f func(*Summary) int64) Spread {
			return r.spreadFor(n, func(x *Result) float64 {
				if x.Queued == nil {
					return math.NaN()
				}
				return float64(f(x.Queued))
			})
		}
		fmt.Fprintf(b, "| %s | %d | %d | %d | %d | %s | %s | %s | %d | %d |\n", n, drops, resumed, notResumed, failed,
			nsCell(queued(func(s *Summary) int64 { return s.P50 })), nsCell(queued(func(s *Summary) int64 { return s.P99 })),
			nsCell(queued(func(s *Summary) int64 { return s.Max })), lost, reord)
	}
	b.WriteString("\n")
}

func writeSteps(b *strings.Builder, r *RunRecord, names []string) {
	b.WriteString("## Highest sustained rate\n\nThe highest open-loop step each target sustained (every message delivered, publish rate within 1 %, p99 within the bound).\n\n" +
		"| Target | Sustained msgs/s published | Delivered msgs/s | vs baseline | Steps (msgs/s: p99) |\n|---|--:|--:|--:|---|\n")
	sustained := func(x *Result) float64 {
		for i := len(x.Steps) - 1; i >= 0; i-- {
			if x.Steps[i].Sustained {
				return x.Steps[i].TargetRate
			}
		}
		return 0
	}
	for _, n := range names {
		var steps []string
		if trials := r.TrialsOf(n); len(trials) > 0 {
			for _, st := range trials[0].Result.Steps {
				mark := ""
				if !st.Sustained {
					mark = " ✗ " + st.Why
				}
				steps = append(steps, fmt.Sprintf("%s: %s%s", FormatCount(st.TargetRate), FormatNs(st.P99), mark))
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", n, countCell(r.spreadFor(n, sustained)),
			countCell(r.spreadFor(n, func(x *Result) float64 { return x.DeliveryRate })), ratioCell(r, n, sustained), strings.Join(steps, "; "))
	}
	b.WriteString("\nOther tables describe each trial's highest sustained step.\n\n")
}

func nanIfZero(v float64) float64 {
	if v == 0 {
		return math.NaN()
	}
	return v
}
