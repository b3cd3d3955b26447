package loadgen

import (
	"bytes"
	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestMergeHistograms: per-subscriber histograms merged equal one histogram
// that recorded every value, percentile by percentile (never an average
// of percentiles).
func TestMergeHistograms(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	all := NewHistogram()
	parts := make([]*hdrhistogram.Histogram, 4)
	for i := range parts {
		parts[i] = NewHistogram()
	}
	for i := range 40000 {
		// Each part has its own distribution: part 3 is the slow one.
		v := int64(rng.ExpFloat64()*float64(20_000*(1+i%4*i%4))) + 1000
		record(parts[i%4], v)
		record(all, v)
	}
	merged := MergeHistograms(parts[0], nil, parts[1], parts[2], parts[3])
	if merged.TotalCount() != all.TotalCount() {
		t.Fatalf("merged %d values, want %d", merged.TotalCount(), all.TotalCount())
	}
	for _, q := range []float64{50, 90, 99, 99.9, 100} {
		if got, want := merged.ValueAtQuantile(q), all.ValueAtQuantile(q); got != want {
			t.Errorf("p%g: merged %d, recorded together %d", q, got, want)
		}
	}
	var avgP99 int64
	for _, p := range parts {
		avgP99 += p.ValueAtQuantile(99) / 4
	}
	if avgP99 == merged.ValueAtQuantile(99) {
		t.Errorf("the average of p99s equals the merged p99 (%d): the test data cannot tell them apart", avgP99)
	}
}

func TestHistogramEncodingAndClamping(t *testing.T) {
	h := NewHistogram()
	record(h, -5)                 // a clock a little behind: 0
	record(h, 2*HistogramHighest) // beyond the range: the maximum
	record(h, 1500)
	if h.TotalCount() != 3 {
		t.Fatalf("%d values recorded, want 3", h.TotalCount())
	}
	s, err := EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeHistogram(s)
	if err != nil {
		t.Fatal(err)
	}
	if Summarize(back) != Summarize(h) {
		t.Errorf("decoded %+v, want %+v", Summarize(back), Summarize(h))
	}
	if empty, err := DecodeHistogram(""); err != nil || empty.TotalCount() != 0 {
		t.Errorf("DecodeHistogram(\"\") = %v, %v", empty, err)
	}
	if _, err := DecodeHistogram("not base64!"); err == nil {
		t.Error("garbage decoded")
	}
	var b bytes.Buffer
	if err := WriteHgrm(&b, h); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Value") || !strings.Contains(b.String(), "#[Max") {
		t.Errorf("not an .hgrm percentile distribution:\n%s", b.String())
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{FormatNs(850), "850ns"}, {FormatNs(12_340), "12.3µs"}, {FormatNs(1_254_000), "1.25ms"}, {FormatNs(2e9), "2.00s"},
		{FormatNs(1500e9), "1500s"}, {FormatCount(950), "950"}, {FormatCount(12_500), "12.5k"}, {FormatCount(3.2e6), "3.20M"},
		{FormatCount(1.5e9), "1.50G"}, {FormatBytes(512), "512 B"}, {FormatBytes(1536), "1.5 KiB"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
