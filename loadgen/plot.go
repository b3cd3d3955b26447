package loadgen

import (
	"fmt"
	"io"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// The report's plots, as SVG (gonum.org/v1/plot).

const plotWidth, plotHeight = 16 * vg.Centimeter, 10 * vg.Centimeter

// WriteLatencyPlot draws each target's latency percentile distribution,
// all its trials merged: latency on a log axis against the percentile on
// HdrHistogram's "1/(1-p)" log axis (90 %, 99 %, 99.9 % ... equally
// spaced).
func WriteLatencyPlot(w io.Writer, r *RunRecord) error {
	p, err := latencyPlot(r)
	if err != nil {
		return err
	}
	return writePlot(w, p)
}

func latencyPlot(r *RunRecord) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Latency per delivery: %s (%s)", r.Settings.Scenario, r.Settings.Params)
	p.X.Label.Text = "percentile"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker = percentileTicks{}
	p.Y.Tick.Marker = relabel{plot.LogTicks{Prec: -1}, func(us float64) string { return FormatNs(int64(us * 1e3)) }}
	p.Y.Label.Text = "latency"
	p.Legend.Top, p.Legend.Left = false, false // the curves rise to the right: the bottom right stays free
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(10), vg.Points(10)
	curves := 0
	for i, name := range r.TargetNames() {
		h, err := r.mergedLatency(name)
		if err != nil {
			return nil, err
		}
		pts := percentileCurve(h)
		if len(pts) == 0 {
			continue
		}
		curves++
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		line.Color = plotutil.Color(i)
		line.Dashes = plotutil.Dashes(i)
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(r.plotName(name), line)
	}
	if curves == 0 { // every trial failed or delivered nothing measured: an empty plot, not a panic of the log axes
		p.Title.Text += ": no latency samples"
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 1, 10, 1, 10
	}
	return p, nil
}

// mergedLatency merges target's trials' per-delivery histograms.
func (r *RunRecord) mergedLatency(target string) (*hdrhistogram.Histogram, error) {
	m := NewHistogram()
	for _, t := range r.TrialsOf(target) {
		h, err := DecodeHistogram(t.LatencyHist)
		if err != nil {
			return nil, err
		}
		m.Merge(h)
	}
	return m, nil
}

// plotName is target's name, marked when a trial of it was loadgen-bound.
func (r *RunRecord) plotName(target string) string {
	for _, t := range r.TrialsOf(target) {
		if t.Result.LoadgenBound {
			return target + " (loadgen-bound)"
		}
	}
	return target
}

// maxPercentileX caps the percentile axis at 99.9999 %.
const maxPercentileX = 1e6

// percentileCurve returns h's distribution as (1/(1-q), latency µs) points.
func percentileCurve(h *hdrhistogram.Histogram) plotter.XYs {
	if h.TotalCount() == 0 {
		return nil
	}
	var pts plotter.XYs
	for _, br := range h.CumulativeDistributionWithTicks(5) {
		x := maxPercentileX
		if q := br.Quantile / 100; q < 1 {
			x = min(1/(1-q), maxPercentileX)
		}
		y := max(float64(br.ValueAt)/1e3, 0.1) // µs; log axes need > 0
		if n := len(pts); n > 0 && pts[n-1].X >= x {
			pts[n-1].Y = max(pts[n-1].Y, y)
			continue
		}
		pts = append(pts, plotter.XY{X: x, Y: y})
	}
	return pts
}

// percentileTicks labels the 1/(1-q) axis in percentiles.
type percentileTicks struct{}

// Ticks implements plot.Ticker.
func (percentileTicks) Ticks(lo, hi float64) []plot.Tick {
	labels := []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"}
	var ticks []plot.Tick
	for i, x := 0, 1.0; i < len(labels); i, x = i+1, x*10 {
		if x >= lo/1.0001 && x <= hi*1.0001 {
			ticks = append(ticks, plot.Tick{Value: x, Label: labels[i]})
		}
	}
	return ticks
}

// WriteThroughputPlot draws each target's median delivered messages per
// second as a bar, its range over the trials as an error bar.
func WriteThroughputPlot(w io.Writer, r *RunRecord) error {
	p, err := throughputPlot(r)
	if err != nil {
		return err
	}
	return writePlot(w, p)
}

func throughputPlot(r *RunRecord) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Delivered messages per second: %s (%s)", r.Settings.Scenario, r.Settings.Params)
	p.Y.Label.Text = "msgs/s: median, range over trials"
	p.Y.Tick.Marker = relabel{plot.DefaultTicks{}, FormatCount}
	names := r.TargetNames()
	bars := make(rangeBars, len(names))
	for i, n := range names {
		sp := r.spreadFor(n, func(x *Result) float64 { return x.DeliveryRate })
		if sp.N == 0 {
			sp = Spread{}
		}
		bars[i] = sp
	}
	chart, err := plotter.NewBarChart(bars, vg.Points(40))
	if err != nil {
		return nil, err
	}
	chart.Color = plotutil.Color(0)
	errs, err := plotter.NewYErrorBars(bars)
	if err != nil {
		return nil, err
	}
	p.Add(chart, errs)
	labels := make([]string, len(names))
	for i, n := range names {
		labels[i] = r.plotName(n)
	}
	p.NominalX(labels...)
	p.Y.Min = 0
	return p, nil
}

// relabel labels the ticks of a Ticker with its own format.
type relabel struct {
	plot.Ticker
	format func(float64) string
}

// Ticks implements plot.Ticker.
func (r relabel) Ticks(lo, hi float64) []plot.Tick {
	ticks := r.Ticker.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = r.format(ticks[i].Value)
		}
	}
	return ticks
}

// rangeBars adapts spreads to gonum's Valuer, XYer and YErrorer.
type rangeBars []Spread

func (b rangeBars) Len() int                    { return len(b) }
func (b rangeBars) Value(i int) float64         { return b[i].Median }
func (b rangeBars) XY(i int) (float64, float64) { return float64(i), b[i].Median }
func (b rangeBars) YError(i int) (float64, float64) {
	return b[i].Median - b[i].Min, b[i].Max - b[i].Median
}

func writePlot(w io.Writer, p *plot.Plot) error {
	wt, err := p.WriterTo(plotWidth, plotHeight, "svg")
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}
