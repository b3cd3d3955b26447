package loadgen

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// WriteReport writes the report of run r in Markdown: its settings, the
// loadgen's ceiling, warnings (loadgen-bound trials first), tables of
// throughput and latency per target as medians over the trials with their
// range and the ratio to the baseline, scenario-specific tables, the
// plots, and every trial.
func WriteReport(w io.Writer, r *RunRecord) error {
	var b strings.Builder
	s := &r.Settings
	fmt.Fprintf(&b, "# PubSubX loadgen: %s (%s)\n\n", s.Scenario, s.Params)
	if r.Incomplete {
		b.WriteString("> **INCOMPLETE**: the run was interrupted; these are partial results.\n\n")
	}
	writeSettings(&b, r)
	writeWarnings(&b, r)
	names := r.TargetNames()
	if s.Mode == RateStep {
		writeSteps(&b, r, names)
	}
	writeThroughput(&b, r, names)
	latencyFrom := "from the intended send time (open loop)"
	if s.Mode == MaxRate {
		latencyFrom = "from the send time (closed loop: each message is sent when the window has room, so this is latency under full load, not at a given rate)"
	}
	writeLatency(&b, r, names, "Latency per delivery", latencyFrom, func(x *Result) Summary { return x.Latency })
	writeLatency(&b, r, names, "Last-subscriber latency", "per message, until its last receiver has it", func(x *Result) Summary { return x.LastSubscriber })
	writeLag(&b, r, names)
	writeDelivery(&b, r, names)
	if s.Scenario == "idle" {
		writeIdle(&b, r, names)
	}
	if s.Scenario == "churn" {
		writeChurn(&b, r, names)
	}
	b.WriteString("## Plots\n\n![Latency percentiles per target](latency.svg)\n\n![Delivered messages per second per target](throughput.svg)\n\n")
	writeTrials(&b, r)
	b.WriteString("## Files\n\n" +
		"- `run.json`: settings, machine, pinning, every trial's numbers and histograms (HdrHistogram V2, base64, ns).\n" +
		"- `*.hgrm`: each trial's latency percentiles in HdrHistogram's text format (µs).\n" +
		"- `bench.txt`: one Go benchmark line per trial: `benchstat -col /target bench.txt`.\n" +
		"- `pubsubx-loadgen report DIR` regenerates this report and the plots from `run.json`.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSettings(b *strings.Builder, r *RunRecord) {
	s := &r.Settings
	row := func(k, v string) { fmt.Fprintf(b, "| %s | %s |\n", k, v) }
	b.WriteString("| | |\n|---|---|\n")
	row("Date", r.Started.UTC().Format(time.RFC3339))
	if r.Commit != "" {
		row("Commit", "`"+r.Commit+"`")
	}
	m := &r.Machine
	row("Machine", fmt.Sprintf("%s, %d CPUs, %s, %s/%s %s, %s", orDash(m.CPU), m.CPUs, FormatBytes(m.Memory), m.OS, m.Arch, m.Kernel, m.GoVersion))
	row("Pinning", pinningText(&r.Pinning))
	load := fmt.Sprintf("%s, %d B messages, QoS %d, MQTT %s", s.Params, s.Size, s.QoS, s.MQTTVersion)
	row("Workload", fmt.Sprintf("%s: %s", s.Scenario, load))
	row("Mode", modeText(s))
	row("Measurement", fmt.Sprintf("%v warm-up discarded, %v measured; %d trials per target, interleaved (A B C A B C ...); medians with [min–max]; ratios to **%s** trial by trial",
		secs(s.Warmup), secs(s.Duration), s.Trials, r.Baseline))
	row("Loadgen ceiling", ceilingText(r))
	b.WriteString("\n")
}

func modeText(s *Settings) string {
	switch s.Mode {
	case MaxRate:
		return fmt.Sprintf("**max rate (closed loop)**, %d deliveries in flight per publisher: throughput, not latency at a rate", s.Window)
	case RateStep:
		if st := s.Step; st != nil {
			return fmt.Sprintf("rate steps from %.0f msgs/s ×%g until p99 > %v, a rate short by 1%%, or a loss", st.Start, st.Factor, st.MaxP99)
		}
		return "rate steps"
	}
	return fmt.Sprintf("open loop at %.0f msgs/s published (latency from each message's intended send time)", s.Rate)
}

func pinningText(p *PinningRecord) string {
	if !p.Enabled {
		return fmt.Sprintf("**none** (%s); loadgen GOMAXPROCS %d", orDash(p.Note), p.LoadgenGOMAXPROCS)
	}
	return fmt.Sprintf("broker on CPU %s (GOMAXPROCS %d), loadgen on CPU %s (GOMAXPROCS %d), by %s",
		p.BrokerCPU, p.BrokerGOMAXPROCS, p.LoadgenCPU, p.LoadgenGOMAXPROCS, p.Method)
}

func ceilingText(r *RunRecord) string {
	c := r.Ceiling
	if c == nil {
		return "not measured " + orDash(r.CeilingError)
	}
	return fmt.Sprintf("**%s msgs/s** taken in by %d subscribers from a flooding sink (%d B messages) at loadgen CPU %.0f%% (%s msgs/s per core): rates near it are the loadgen's, not the broker's",
		FormatCount(c.Rate), c.Subscribers, c.Size, 100*c.Loadgen.CPU, FormatCount(c.PerCore))
}

func writeWarnings(b *strings.Builder, r *RunRecord) {
	b.WriteString("## Warnings\n\n")
	n := 0
	if !r.Pinning.Enabled {
		b.WriteString("- Broker and loadgen were not pinned to separate cores: numbers are indicative only.\n")
		n++
	}
	for _, bound := range []bool{true, false} {
		for _, t := range r.Trials {
			if t.Error != "" && !bound {
				fmt.Fprintf(b, "- %s trial %d failed: %s\n", t.Target, t.Trial, t.Error)
				n++
			}
			if t.Result == nil {
				continue
			}
			for _, w := range t.Result.Warnings {
				if strings.HasPrefix(w, "loadgen-bound") == bound {
					fmt.Fprintf(b, "- %s trial %d: %s\n", t.Target, t.Trial, w)
					n++
				}
			}
		}
	}
	if n == 0 {
		b.WriteString("None: no trial was loadgen-bound, lost, duplicated or reordered a message.\n")
	}
	b.WriteString("\n")
}

// cell formats a spread with f: "median [min–max]", or the median alone
// for one trial.
func cell(sp Spread, f func(float64) string) string {
	if sp.N == 0 {
		return "–"
	}
	if sp.N == 1 || sp.Min == sp.Max {
		return f(sp.Median)
	}
	return fmt.Sprintf("%s [%s–%s]", f(sp.Median), f(sp.Min), f(sp.Max))
}

func ratioCell(r *RunRecord, target string, m metric) string {
	if target == r.Baseline {
		return "1 (baseline)"
	}
	return cell(r.ratioFor(target, m), func(v float64) string { return fmt.Sprintf("%.2f", v) })
}

func countCell(sp Spread) string { return cell(sp, FormatCount) }
func nsCell(sp Spread) string {
	return cell(sp, func(v float64) string { return FormatNs(int64(math.Round(v))) })
}
func pctCell(sp Spread) string {
	return cell(sp, func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) })
}
func bytesCell(sp Spread) string {
	return cell(sp, func(v float64) string { return FormatBytes(int64(v)) })
}

func writeThroughput(b *strings.Builder, r *RunRecord, names []string) {
	b.WriteString("## Throughput\n\n| Target | Published msgs/s | Delivered msgs/s | Delivered vs baseline | Broker CPU | Broker RSS | Loadgen CPU | Loadgen-bound trials |\n|---|--:|--:|--:|--:|--:|--:|--:|\n")
	delivered := func(x *Result) float64 { return x.DeliveryRate }
	for _, n := range names {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", n,
			countCell(r.spreadFor(n, func(x *Result) float64 { return x.PublishRate })),
			countCell(r.spreadFor(n, delivered)), ratioCell(r, n, delivered),
			pctCell(r.spreadFor(n, brokerMetric(func(u *Usage) float64 { return u.CPU }))),
			bytesCell(r.spreadFor(n, brokerMetric(func(u *Usage) float64 { return float64(u.RSS) }))),
			pctCell(r.spreadFor(n, func(x *Result) float64 { return x.Loadgen.CPU })),
			boundCount(r, n))
	}
	b.WriteString("\n")
}

func brokerMetric(f func(*Usage) float64) metric {
	return func(x *Result) float64 {
		if x.Broker == nil {
			return math.NaN()
		}
		return f(x.Broker)
	}
}

func boundCount(r *RunRecord, target string) string {
	trials := r.TrialsOf(target)
	n := 0
	for _, t := range trials {
		if t.Result.LoadgenBound {
			n++
		}
	}
	if n == 0 {
		return fmt.Sprintf("0 of %d", len(trials))
	}
	return fmt.Sprintf("**%d of %d**", n, len(trials))
}

func writeLatency(b *strings.Builder, r *RunRecord, names []string, title, what string, sum func(*Result) Summary) {
	fmt.Fprintf(b, "## %s\n\n%s; median of the trials' percentiles [min–max].\n\n| Target | p50 | p90 | p99 | p99.9 | max | p99 vs baseline |\n|---|--:|--:|--:|--:|--:|--:|\n", title, what)
	pct := func(f func(Summary) int64) metric {
		return func(x *Result) float64 {
			s := sum(x)
			if s.Count == 0 {
				return math.NaN()
			}
			return float64(f(s))
		}
	}
	p99 := pct(func(s Summary) int64 { return s.P99 })
	for _, n := range names {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", n,
			nsCell(r.spreadFor(n, pct(func(s Summary) int64 { return s.P50 }))),
			nsCell(r.spreadFor(n, pct(func(s Summary) int64 { return s.P90 }))),
			nsCell(r.spreadFor(n, p99)),
			nsCell(r.spreadFor(n, pct(func(s Summary) int64 { return s.P999 }))),
			nsCell(r.spreadFor(n, pct(func(s Summary) int64 { return s.Max }))),
			ratioCell(r, n, p99))
	}
	b.WriteString("\n")
}

func writeLag(b *strings.Builder, r *RunRecord, names []string) {
	b.WriteString("## Publisher lag\n\nActual minus intended send time: the loadgen's own delay, included in the latencies above.\n\n| Target | p50 | p99 | max |\n|---|--:|--:|--:|\n")
	for _, n := range names {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", n,
			nsCell(r.spreadFor(n, func(x *Result) float64 { return float64(x.PublisherLag.P50) })),
			nsCell(r.spreadFor(n, func(x *Result) float64 { return float64(x.PublisherLag.P99) })),
			nsCell(r.spreadFor(n, func(x *Result) float64 { return float64(x.PublisherLag.Max) })))
	}
	b.WriteString("\n")
}

func writeDelivery(b *strings.Builder, r *RunRecord, names []string) {
	b.WriteString("## Delivery\n\nTotals over the trials, from the sequence numbers. Lost: not delivered by the end of the drain after each trial (-drain), whether the broker dropped it or still held it.\n\n| Target | Expected | Lost | Duplicates | Reordered |\n|---|--:|--:|--:|--:|\n")
	for _, n := range names {
		var exp, lost, dup, reord int64
		for _, t := range r.TrialsOf(n) {
			x := t.Result
			exp, lost, dup, reord = exp+x.Expected, lost+x.Lost, dup+x.Duplicates, reord+x.Reordered
		}
		fmt.Fprintf(b, "| %s | %d | %d | %d | %d |\n", n, exp, lost, dup, reord)
	}
	b.WriteString("\n")
}

func writeTrials(b *strings.Builder, r *RunRecord) {
	b.WriteString("## Trials\n\n| Target | Trial | Published msgs/s | Delivered msgs/s | p50 | p99 | p99.9 | Lost | Loadgen GC (cycles, max pause) | Loadgen-bound |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, t := range r.Trials {
		x := t.Result
		if x == nil {
			fmt.Fprintf(b, "| %s | %d | failed: %s | | | | | | | |\n", t.Target, t.Trial, t.Error)
			continue
		}
		bound := "no"
		if x.LoadgenBound {
			bound = "**yes**"
		}
		latency := func(v int64) string {
			if x.Latency.Count == 0 {
				return "–"
			}
			return FormatNs(v)
		}
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s | %s | %d | %d, %s | %s |\n", t.Target, t.Trial,
			FormatCount(x.PublishRate), FormatCount(x.DeliveryRate), latency(x.Latency.P50),
			latency(x.Latency.P99), latency(x.Latency.P999), x.Lost,
			x.Runtime.GCs, FormatNs(int64(x.Runtime.GCPauseMax*1e9)), bound)
	}
	b.WriteString("\n")
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
