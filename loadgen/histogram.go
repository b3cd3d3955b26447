package loadgen

import (
	"fmt"
	"io"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Latency histograms hold nanoseconds from 1 µs to 60 s with 3 significant
// digits (HdrHistogram). Each recording goroutine owns its histograms; they
// are merged when a run ends, never averaged.
const (
	HistogramLowest  = int64(time.Microsecond)
	HistogramHighest = int64(60 * time.Second)
	HistogramDigits  = 3
)

// NewHistogram returns an empty latency histogram.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(HistogramLowest, HistogramHighest, HistogramDigits)
}

// record adds v ns to h, clamped to the histogram's range so that nothing
// recorded is lost: a latency above 60 s counts as 60 s, a negative one
// (clocks of two processes a microsecond apart) as 0.
func record(h *hdrhistogram.Histogram, v int64) {
	if v < 0 {
		v = 0
	} else if v > HistogramHighest {
		v = HistogramHighest
	}
	h.RecordValue(v) // in range: cannot fail
}

// clearHistogram empties h (nil or empty: nothing to do; clearing the
// 220 KB of a histogram's counts is not free).
func clearHistogram(h *hdrhistogram.Histogram) {
	if h != nil && h.TotalCount() > 0 {
		h.Reset()
	}
}

// MergeHistograms returns a new histogram holding every value of hs (nil
// entries are skipped).
func MergeHistograms(hs ...*hdrhistogram.Histogram) *hdrhistogram.Histogram {
	m := NewHistogram()
	for _, h := range hs {
		if h != nil {
			m.Merge(h)
		}
	}
	return m
}

// Summary is a histogram's percentiles, in nanoseconds.
type Summary struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_ns"`
	P50   int64   `json:"p50_ns"`
	P90   int64   `json:"p90_ns"`
	P99   int64   `json:"p99_ns"`
	P999  int64   `json:"p99_9_ns"`
	P9999 int64   `json:"p99_99_ns"`
	Max   int64   `json:"max_ns"`
}

// Summarize reads the percentiles of h (the zero Summary when h is empty).
func Summarize(h *hdrhistogram.Histogram) Summary {
	if h == nil || h.TotalCount() == 0 {
		return Summary{}
	}
	return Summary{
		Count: h.TotalCount(),
		Mean:  h.Mean(),
		P50:   h.ValueAtQuantile(50),
		P90:   h.ValueAtQuantile(90),
		P99:   h.ValueAtQuantile(99),
		P999:  h.ValueAtQuantile(99.9),
		P9999: h.ValueAtQuantile(99.99),
		Max:   h.Max(),
	}
}

// EncodeHistogram returns h in HdrHistogram's compressed V2 format, base64:
// a few kilobytes that DecodeHistogram (or any HdrHistogram library) reads.
func EncodeHistogram(h *hdrhistogram.Histogram) (string, error) {
	b, err := h.EncodeV2()
	if err != nil {
		return "", fmt.Errorf("loadgen: encoding histogram: %w", err)
	}
	return string(b), nil
}

// DecodeHistogram reads a histogram written by EncodeHistogram; the empty
// string gives an empty histogram.
func DecodeHistogram(s string) (*hdrhistogram.Histogram, error) {
	if s == "" {
		return NewHistogram(), nil
	}
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("loadgen: decoding histogram: %w", err)
	}
	return h, nil
}

// WriteHgrm writes h's percentile distribution in HdrHistogram's text
// format (.hgrm: value, percentile, total count, 1/(1-percentile)), values
// in microseconds, five ticks per half distance as HdrHistogram's tools
// print it; HdrHistogram's online plotter reads these files.
func WriteHgrm(w io.Writer, h *hdrhistogram.Histogram) error {
	_, err := h.PercentilesPrint(w, 5, 1000)
	return err
}
