package loadgen

import (
	"math"
	"slices"
)

// Spread is a metric over a target's trials: the median, the smallest and
// the largest value, and how many trials gave one.
type Spread struct {
	Median, Min, Max float64
	N                int
}

// spreadOf summarizes vs (NaN values are skipped).
func spreadOf(vs []float64) Spread {
	var ok []float64
	for _, v := range vs {
		if !math.IsNaN(v) {
			ok = append(ok, v)
		}
	}
	if len(ok) == 0 {
		return Spread{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	slices.Sort(ok)
	n := len(ok)
	med := ok[n/2]
	if n%2 == 0 {
		med = (ok[n/2-1] + ok[n/2]) / 2
	}
	return Spread{Median: med, Min: ok[0], Max: ok[n-1], N: n}
}

// metric extracts one number from a result.
type metric func(*Result) float64

// spreadFor summarizes metric m over target's trials.
func (r *RunRecord) spreadFor(target string, m metric) Spread {
	var vs []float64
	for _, t := range r.TrialsOf(target) {
		vs = append(vs, m(t.Result))
	}
	return spreadOf(vs)
}

// ratioFor compares metric m of target with the baseline's, trial by
// trial (trials are interleaved, so trial i of each ran under the same
// conditions): the median, smallest and largest of the per-trial ratios.
func (r *RunRecord) ratioFor(target string, m metric) Spread {
	base := map[int]float64{}
	for _, t := range r.TrialsOf(r.Baseline) {
		base[t.Trial] = m(t.Result)
	}
	var vs []float64
	for _, t := range r.TrialsOf(target) {
		if b, ok := base[t.Trial]; ok && b != 0 {
			vs = append(vs, m(t.Result)/b)
		}
	}
	return spreadOf(vs)
}
