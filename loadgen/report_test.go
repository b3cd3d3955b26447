package loadgen

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixedRun is a run record with known numbers: two targets, two trials
// each, one of them loadgen-bound.
func fixedRun(t *testing.T) *RunRecord {
	t.Helper()
	r := &RunRecord{
		Tool: "pubsubx-loadgen", Command: []string{"pubsubx-loadgen", "compare", "-trials", "2"},
		Started:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Finished: time.Date(2026, 1, 2, 3, 5, 5, 0, time.UTC),
		Settings: Settings{Scenario: "fanout", Params: "pubs=1/subs=100", Mode: OpenLoop, Rate: 10000, Size: 64,
			MQTTVersion: "5.0", Warmup: 1, Duration: 5, Trials: 2},
		Machine:  Machine{OS: "linux", Arch: "amd64", Kernel: "6.1.0", CPU: "Test CPU", CPUs: 2, Memory: 24 << 30, GoVersion: "go1.26"},
		Commit:   "0123456789ab",
		Pinning:  PinningRecord{Enabled: true, Method: "taskset", BrokerCPU: "0", LoadgenCPU: "1", BrokerGOMAXPROCS: 1, LoadgenGOMAXPROCS: 1},
		Ceiling:  &Ceiling{Subscribers: 100, Size: 64, Seconds: 2, Rate: 12.5e6, Loadgen: Usage{CPU: 0.99}},
		Baseline: "epoll",
		Targets:  []TargetRecord{{Name: "epoll", Kind: KindPubSubX}, {Name: "mosquitto", Kind: KindMosquitto}},
	}
	for trial := 1; trial <= 2; trial++ {
		for i, name := range []string{"epoll", "mosquitto"} {
			base := int64(50_000 * (1 + i) * (2 + trial)) // ns
			lat, last, lag := NewHistogram(), NewHistogram(), NewHistogram()
			for k := range int64(1000) {
				record(lat, base+k*base/100)
				record(last, base*2+k*base/100)
				record(lag, 2000+k*10)
			}
			res := &Result{
				Mode: OpenLoop, TargetRate: 10000, WindowSecs: 5, Sent: 50000, PublishRate: 10000,
				Expected: 6_000_000, Delivered: 6_000_000, Measured: 5_000_000, DeliveryRate: 1e6 * float64(3-i),
				Broker: &Usage{CPU: 0.5 + 0.1*float64(i+trial), RSS: 10 << 20}, Loadgen: Usage{CPU: 0.4},
				Runtime: GoRuntime{GOMAXPROCS: 1}, Quiesced: true,
				LatencyHist: lat, LastSubscriberHist: last, PublisherLagHist: lag,
				Latency: Summarize(lat), LastSubscriber: Summarize(last), PublisherLag: Summarize(lag),
			}
			if name == "mosquitto" && trial == 2 {
				res.Loadgen.CPU = 0.95
			}
			res.Judge(r.Ceiling.Rate)
			r.Trials = append(r.Trials, NewTrialRecord(name, trial, res, nil))
		}
	}
	return r
}

// TestReportScenarios renders the tables of the idle, churn and rate-step
// scenarios.
func TestReportScenarios(t *testing.T) {
	r := fixedRun(t)
	r.Settings.Scenario, r.Settings.Params = "idle", "conns=1000"
	for i := range r.Trials {
		r.Trials[i].Result.Idle = &IdleResult{Requested: 1000, Connected: 1000, ConnectSecs: 0.5 + float64(i), Sources: 4,
			RSSBefore: 10 << 20, RSSAfter: 10<<20 + int64(400*(1000+100*i)), PerConnection: float64(400 + 40*i)}
	}
	golden(t, "report_idle.golden.md", render(t, r, WriteReport))

	r = fixedRun(t)
	r.Settings.Scenario, r.Settings.Params, r.Settings.QoS = "churn", "subs=100/share=0.1/every=1s/away=500ms", 1
	for i := range r.Trials {
		x := r.Trials[i].Result
		x.Churn = &ChurnResult{Rounds: 5, Drops: 50, Resumed: 50}
		x.Queued = &Summary{Count: 1000, P50: int64(400+i) * 1e6, P99: 510e6, Max: 520e6}
		x.Duplicates = int64(i)
	}
	golden(t, "report_churn.golden.md", render(t, r, WriteReport))

	r = fixedRun(t)
	r.Settings.Mode, r.Settings.Step = RateStep, &StepConfig{Start: 10000, Factor: 2, MaxP99: 5 * time.Millisecond, MaxSteps: 10}
	for i := range r.Trials {
		r.Trials[i].Result.Steps = []StepResult{
			{TargetRate: 10000, Sustained: true, P99: 1e6}, {TargetRate: 20000, Sustained: true, P99: 2e6},
			{TargetRate: 40000, P99: 9e6, Why: "p99 over 5ms"},
		}
	}
	golden(t, "report_steps.golden.md", render(t, r, WriteReport))

	// Max rate, with a target none of whose measured messages arrived: its
	// latency is "–" everywhere, never 0, in the report and in a diff.
	r = fixedRun(t)
	r.Settings.Mode = MaxRate
	for _, tr := range r.Trials {
		if tr.Target == "mosquitto" {
			x := tr.Result
			x.Mode, x.LatencyHist, x.Latency, x.LastSubscriberHist, x.LastSubscriber = MaxRate, NewHistogram(), Summary{}, NewHistogram(), Summary{}
		}
	}
	golden(t, "report_max.golden.md", render(t, r, WriteReport))
	var diff bytes.Buffer
	if err := WriteDiff(&diff, "results/a", fixedRun(t), "results/b", r); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff_max.golden.md", diff.Bytes())
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it); got:\n%s", name, got)
	}
}

func render(t *testing.T, r *RunRecord, write func(io.Writer, *RunRecord) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReportGolden(t *testing.T) {
	r := fixedRun(t)
	golden(t, "report.golden.md", render(t, r, WriteReport))
	golden(t, "bench.golden.txt", render(t, r, WriteBench))
	var hgrm bytes.Buffer
	if err := WriteHgrm(&hgrm, r.Trials[0].Result.LatencyHist); err != nil {
		t.Fatal(err)
	}
	golden(t, "epoll_trial1.golden.hgrm", hgrm.Bytes())
	b := fixedRun(t)
	b.Commit = "fedcba987654"
	b.Settings.Rate = 20000
	var diff bytes.Buffer
	if err := WriteDiff(&diff, "results/a", r, "results/b", b); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff.golden.md", diff.Bytes())
}

// TestWriteResultsRoundTrip writes a results folder, checks every file,
// then regenerates the derived files from run.json alone: they must come
// out identical.
func TestWriteResultsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r := fixedRun(t)
	if err := WriteResults(dir, r); err != nil {
		t.Fatal(err)
	}
	if err := VerifyResults(dir); err != nil {
		t.Error(err)
	}
	if got, err := ReadRunRecord(dir); err != nil || len(got.Trials) != 4 {
		t.Errorf("run.json read back with %v trials, %v; want 4", len(got.Trials), err)
	}
	before := readFiles(t, dir, "report.md", "bench.txt", "latency.svg", "throughput.svg")
	if err := RegenerateReport(dir); err != nil {
		t.Fatal(err)
	}
	after := readFiles(t, dir, "report.md", "bench.txt", "latency.svg", "throughput.svg")
	for name := range before {
		if !bytes.Equal(before[name], after[name]) {
			t.Errorf("%s regenerated from run.json differs from the original", name)
		}
	}
}

// TestWriteResultsWithoutSamples: a run in which one target's trial failed
// and the other measured no latency (an overloaded broker) still writes
// every file; the latency plot says it has no samples instead of failing.
func TestWriteResultsWithoutSamples(t *testing.T) {
	r := fixedRun(t)
	for i := range r.Trials {
		tr := &r.Trials[i]
		if tr.Target == "mosquitto" {
			*tr = NewTrialRecord(tr.Target, tr.Trial, nil, errors.New("client: connection lost"))
			continue
		}
		x := tr.Result
		x.LatencyHist, x.Latency, x.LastSubscriberHist, x.LastSubscriber = NewHistogram(), Summary{}, NewHistogram(), Summary{}
		*tr = NewTrialRecord(tr.Target, tr.Trial, x, nil)
	}
	dir := t.TempDir()
	if err := WriteResults(dir, r); err != nil {
		t.Fatal(err)
	}
	files := readFiles(t, dir, "report.md", "latency.svg", "throughput.svg")
	if !bytes.Contains(files["latency.svg"], []byte("no latency samples")) {
		t.Error("latency.svg does not say it has no samples")
	}
	if !bytes.Contains(files["report.md"], []byte("failed: client: connection lost")) {
		t.Error("report.md does not show the failed trial")
	}
}

func readFiles(t *testing.T, dir string, names ...string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		m[n] = b
	}
	return m
}
