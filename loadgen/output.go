package loadgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// WriteResults writes a results folder for r: run.json, a .hgrm file per
// target and trial, bench.txt, report.md, latency.svg and throughput.svg.
// It may be called again as trials complete: every file is rewritten.
func WriteResults(dir string, r *RunRecord) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile(dir, "run.json", func(w io.Writer) error { _, err := w.Write(append(js, '\n')); return err }); err != nil {
		return err
	}
	for _, t := range r.Trials {
		if err := writeHgrms(dir, &t); err != nil {
			return err
		}
	}
	return WriteDerived(dir, r)
}

// WriteDerived writes the files derived from run.json: bench.txt,
// report.md and the plots.
func WriteDerived(dir string, r *RunRecord) error {
	for _, f := range []struct {
		name  string
		write func(io.Writer, *RunRecord) error
	}{
		{"bench.txt", WriteBench}, {"report.md", WriteReport},
		{"latency.svg", WriteLatencyPlot}, {"throughput.svg", WriteThroughputPlot},
	} {
		if err := writeFile(dir, f.name, func(w io.Writer) error { return f.write(w, r) }); err != nil {
			return fmt.Errorf("loadgen: writing %s: %w", f.name, err)
		}
	}
	return nil
}

// HgrmName returns the name of the .hgrm file of a target's trial; kind is
// "" for per-delivery latency, or "last-subscriber".
func HgrmName(target string, trial int, kind string) string {
	name := fmt.Sprintf("%s_trial%d", safeName(target), trial)
	if kind != "" {
		name += "_" + kind
	}
	return name + ".hgrm"
}

func writeHgrms(dir string, t *TrialRecord) error {
	for _, h := range []struct{ kind, enc string }{{"", t.LatencyHist}, {"last-subscriber", t.LastSubscriberHist}} {
		if h.enc == "" || (h.kind != "" && h.enc == t.LatencyHist) {
			continue
		}
		hist, err := DecodeHistogram(h.enc)
		if err != nil {
			return err
		}
		if err := writeFile(dir, HgrmName(t.Target, t.Trial, h.kind), func(w io.Writer) error { return WriteHgrm(w, hist) }); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes dir/name through a temporary file, so that an
// interrupted write never leaves half a file.
func writeFile(dir, name string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// safeName makes s usable in file and benchmark names.
func safeName(s string) string { return unsafeChars.ReplaceAllString(s, "_") }

// WriteBench writes one Go benchmark line per trial, named
// BenchmarkLoadgen/scenario=S/<params>/size=N/mode=M[/rate=R]/target=T, so
// that `benchstat -col /target bench.txt` compares the targets. Each line
// reports the measured deliveries as iterations, ns per delivery, msgs/s,
// latency percentiles, broker CPU, lost messages and whether the trial was
// loadgen-bound.
func WriteBench(w io.Writer, r *RunRecord) error {
	var b strings.Builder
	fmt.Fprintf(&b, "goos: %s\ngoarch: %s\npkg: github.com/pubsubx/pubsubx/loadgen\n", r.Machine.OS, r.Machine.Arch)
	if r.Machine.CPU != "" {
		fmt.Fprintf(&b, "cpu: %s\n", r.Machine.CPU)
	}
	s := &r.Settings
	name := fmt.Sprintf("BenchmarkLoadgen/scenario=%s/%s/size=%d/mode=%s", s.Scenario, s.Params, s.Size, s.Mode)
	if s.Mode == OpenLoop {
		name += fmt.Sprintf("/rate=%.0f", s.Rate)
	}
	for _, t := range r.Trials {
		x := t.Result
		if x == nil || x.Measured == 0 {
			continue
		}
		bound := 0
		if x.LoadgenBound {
			bound = 1
		}
		fmt.Fprintf(&b, "%s/target=%s \t%d\t%.2f ns/op\t%.0f msgs/s\t%d p50-ns\t%d p99-ns\t%d p99.9-ns\t%d last-p99-ns",
			name, safeName(t.Target), x.Measured, x.WindowSecs*1e9/float64(x.Measured), x.DeliveryRate,
			x.Latency.P50, x.Latency.P99, x.Latency.P999, x.LastSubscriber.P99)
		if x.Broker != nil {
			fmt.Fprintf(&b, "\t%.3f broker-cores", x.Broker.CPU)
		}
		fmt.Fprintf(&b, "\t%d lost\t%d loadgen-bound\n", x.Lost, bound)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// RegenerateReport rewrites the derived files of the results folder dir
// from its run.json.
func RegenerateReport(dir string) error {
	r, err := ReadRunRecord(dir)
	if err != nil {
		return err
	}
	return WriteDerived(dir, r)
}
