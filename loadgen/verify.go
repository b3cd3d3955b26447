package loadgen

import (
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// VerifyResults checks that dir is a well-formed results folder: run.json
// reads back and every trial has a result or an error; every trial with a
// result has its histogram and its .hgrm file, and a bench.txt line in Go
// benchmark format; report.md names every target; the SVG plots parse.
// It returns every problem found, joined.
func VerifyResults(dir string) error {
	r, err := ReadRunRecord(dir)
	if err != nil {
		return err
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	measured := 0
	for _, t := range r.Trials {
		switch {
		case t.Result == nil && t.Error == "":
			bad("trial %s/%d has neither a result nor an error", t.Target, t.Trial)
		case t.Result == nil:
		case t.LatencyHist == "":
			bad("trial %s/%d has no latency histogram", t.Target, t.Trial)
		default:
			if t.Result.Measured > 0 {
				measured++
			}
			name := HgrmName(t.Target, t.Trial, "")
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				errs = append(errs, err)
			} else if !strings.Contains(string(b), "Percentile") || !strings.Contains(string(b), "#[Mean") {
				bad("%s is not an HdrHistogram percentile distribution", name)
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "bench.txt")); err != nil {
		errs = append(errs, err)
	} else {
		lines := 0
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, "Benchmark") {
				continue
			}
			lines++
			if f := strings.Fields(line); len(f) < 4 || len(f)%2 != 0 || !strings.Contains(f[0], "/target=") || f[3] != "ns/op" {
				bad("bench.txt: not a benchmark line: %q", line)
			}
		}
		if lines != measured {
			bad("bench.txt has %d benchmark lines for %d measured trials", lines, measured)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "report.md")); err != nil {
		errs = append(errs, err)
	} else {
		for _, want := range append([]string{"## Throughput", "## Latency per delivery", "latency.svg", "Loadgen ceiling"}, r.TargetNames()...) {
			if !strings.Contains(string(b), want) {
				bad("report.md lacks %q", want)
			}
		}
	}
	for _, svg := range []string{"latency.svg", "throughput.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, svg))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var root struct{ XMLName xml.Name }
		if err := xml.Unmarshal(b, &root); err != nil || root.XMLName.Local != "svg" {
			bad("%s is not an SVG document (root %q): %v", svg, root.XMLName.Local, err)
		}
	}
	return errors.Join(errs...)
}
