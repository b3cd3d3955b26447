package loadgen

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// WriteDiff compares two results folders' runs, a (before) and b (after),
// target by target: medians of delivered msgs/s and latency percentiles,
// and their ratio b/a. Differences in settings are listed first: numbers
// of different workloads do not compare.
func WriteDiff(w io.Writer, aDir string, a *RunRecord, bDir string, b *RunRecord) error {
	var s strings.Builder
	fmt.Fprintf(&s, "# PubSubX loadgen: %s vs %s\n\n", aDir, bDir)
	s.WriteString("| | A | B |\n|---|---|---|\n")
	row := func(k, x, y string) { fmt.Fprintf(&s, "| %s | %s | %s |\n", k, x, y) }
	row("Folder", aDir, bDir)
	row("Date", a.Started.UTC().Format("2006-01-02 15:04"), b.Started.UTC().Format("2006-01-02 15:04"))
	row("Commit", orDash(a.Commit), orDash(b.Commit))
	row("Workload", a.Settings.Scenario+" "+a.Settings.Params, b.Settings.Scenario+" "+b.Settings.Params)
	row("Mode", modeText(&a.Settings), modeText(&b.Settings))
	row("Pinning", pinningText(&a.Pinning), pinningText(&b.Pinning))
	row("Loadgen ceiling", ceilingShort(a), ceilingShort(b))
	s.WriteString("\n")
	if diffs := settingsDiff(&a.Settings, &b.Settings); len(diffs) > 0 {
		s.WriteString("**Warning: the settings differ** (" + strings.Join(diffs, "; ") + "): compare with care.\n\n")
	}
	s.WriteString("| Target | Delivered msgs/s A | B | B/A | p50 A | B | B/A | p99 A | B | B/A | Lost A | B | Loadgen-bound A | B |\n" +
		"|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	delivered := func(x *Result) float64 { return x.DeliveryRate }
	latency := func(f func(Summary) int64) metric {
		return func(x *Result) float64 {
			if x.Latency.Count == 0 {
				return math.NaN() // no samples: shown as "–", never as 0
			}
			return float64(f(x.Latency))
		}
	}
	p50 := latency(func(s Summary) int64 { return s.P50 })
	p99 := latency(func(s Summary) int64 { return s.P99 })
	for _, name := range a.TargetNames() {
		if len(b.TrialsOf(name)) == 0 {
			continue
		}
		fmt.Fprintf(&s, "| %s |", name)
		for _, m := range []struct {
			f      metric
			format func(float64) string
		}{{delivered, FormatCount}, {p50, fmtNs}, {p99, fmtNs}} {
			x, y := a.spreadFor(name, m.f).Median, b.spreadFor(name, m.f).Median
			fmt.Fprintf(&s, " %s | %s | %s |", m.format(x), m.format(y), fmtRatio(y/x))
		}
		fmt.Fprintf(&s, " %d | %d | %s | %s |\n", totalLost(a, name), totalLost(b, name), boundCount(a, name), boundCount(b, name))
	}
	_, err := io.WriteString(w, s.String())
	return err
}

func fmtNs(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return FormatNs(int64(v))
}

func fmtRatio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

func ceilingShort(r *RunRecord) string {
	if r.Ceiling == nil {
		return "–"
	}
	return FormatCount(r.Ceiling.Rate) + " msgs/s"
}

func totalLost(r *RunRecord, target string) int64 {
	var n int64
	for _, t := range r.TrialsOf(target) {
		n += t.Result.Lost
	}
	return n
}

// settingsDiff lists the workload settings that differ.
func settingsDiff(a, b *Settings) []string {
	var d []string
	check := func(name string, x, y any) {
		if x != y {
			d = append(d, fmt.Sprintf("%s %v vs %v", name, x, y))
		}
	}
	check("scenario", a.Scenario, b.Scenario)
	check("params", a.Params, b.Params)
	check("mode", a.Mode, b.Mode)
	check("rate", a.Rate, b.Rate)
	check("size", a.Size, b.Size)
	check("QoS", a.QoS, b.QoS)
	check("MQTT", a.MQTTVersion, b.MQTTVersion)
	return d
}
