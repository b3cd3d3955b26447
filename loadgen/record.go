package loadgen

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// RunRecord is everything a run or comparison produced, as written to
// run.json: the settings, the machine and pinning, the loadgen's ceiling,
// the targets, and every trial's result with its histograms. report
// regenerates every other output file from it.
type RunRecord struct {
	Tool       string    `json:"tool"`
	Command    []string  `json:"command"`
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished"`
	Incomplete bool      `json:"incomplete,omitempty"`

	Settings Settings      `json:"settings"`
	Machine  Machine       `json:"machine"`
	Commit   string        `json:"commit,omitempty"`
	Pinning  PinningRecord `json:"pinning"`
	Ceiling  *Ceiling      `json:"loadgen_ceiling,omitempty"`
	// CeilingError says why the ceiling is missing.
	CeilingError string `json:"loadgen_ceiling_error,omitempty"`

	Baseline string         `json:"baseline"`
	Targets  []TargetRecord `json:"targets"`
	Trials   []TrialRecord  `json:"trials"`
}

// Settings are the run's workload and measurement settings.
type Settings struct {
	Scenario    string      `json:"scenario"`
	Params      string      `json:"params"`
	Mode        Mode        `json:"mode"`
	Rate        float64     `json:"rate,omitempty"`
	Size        int         `json:"size"`
	QoS         int         `json:"qos"`
	MQTTVersion string      `json:"mqtt_version"`
	Warmup      float64     `json:"warmup_seconds"`
	Duration    float64     `json:"duration_seconds"`
	Trials      int         `json:"trials"`
	Window      int         `json:"window,omitempty"`
	Step        *StepConfig `json:"step,omitempty"`
}

// Machine describes where the run ran.
type Machine struct {
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	Kernel    string `json:"kernel,omitempty"`
	CPU       string `json:"cpu,omitempty"`
	CPUs      int    `json:"cpus"`
	Memory    int64  `json:"memory_bytes,omitempty"`
	GoVersion string `json:"go_version"`
}

// PinningRecord says which cores the broker and the loadgen ran on.
type PinningRecord struct {
	Enabled           bool   `json:"enabled"`
	Method            string `json:"method,omitempty"`
	BrokerCPU         string `json:"broker_cpu,omitempty"`
	LoadgenCPU        string `json:"loadgen_cpu,omitempty"`
	BrokerGOMAXPROCS  int    `json:"broker_gomaxprocs,omitempty"`
	LoadgenGOMAXPROCS int    `json:"loadgen_gomaxprocs"`
	Note              string `json:"note,omitempty"`
}

// TargetRecord is one broker under test.
type TargetRecord struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"` // pubsubx, mosquitto or external
	Command []string `json:"command,omitempty"`
	Addr    string   `json:"addr,omitempty"`
	Version string   `json:"version,omitempty"`
}

// TrialRecord is one trial of one target.
type TrialRecord struct {
	Target string  `json:"target"`
	Trial  int     `json:"trial"` // from 1
	Error  string  `json:"error,omitempty"`
	Result *Result `json:"result,omitempty"`
	// Histograms, HdrHistogram V2 compressed and base64-encoded (ns).
	LatencyHist        string `json:"latency_histogram,omitempty"`
	LastSubscriberHist string `json:"last_subscriber_histogram,omitempty"`
	PublisherLagHist   string `json:"publisher_lag_histogram,omitempty"`
}

// NewTrialRecord records r (or err) as trial n of target, encoding its
// histograms.
func NewTrialRecord(target string, n int, r *Result, err error) TrialRecord {
	t := TrialRecord{Target: target, Trial: n, Result: r}
	if err != nil {
		t.Error = err.Error()
	}
	if r != nil {
		t.LatencyHist = encodeOrEmpty(r.LatencyHist)
		t.LastSubscriberHist = encodeOrEmpty(r.LastSubscriberHist)
		t.PublisherLagHist = encodeOrEmpty(r.PublisherLagHist)
	}
	return t
}

func encodeOrEmpty(h *hdrhistogram.Histogram) string {
	if h == nil {
		return ""
	}
	s, _ := EncodeHistogram(h)
	return s
}

// ReadRunRecord reads dir/run.json.
func ReadRunRecord(dir string) (*RunRecord, error) {
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		return nil, err
	}
	var r RunRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("loadgen: %s/run.json: %w", dir, err)
	}
	return &r, nil
}

// TargetNames returns the names of the targets, in order.
func (r *RunRecord) TargetNames() []string {
	names := make([]string, len(r.Targets))
	for i, t := range r.Targets {
		names[i] = t.Name
	}
	return names
}

// TrialsOf returns the trials of target that produced a result, in order.
func (r *RunRecord) TrialsOf(target string) []*TrialRecord {
	var out []*TrialRecord
	for i := range r.Trials {
		if t := &r.Trials[i]; t.Target == target && t.Result != nil {
			out = append(out, t)
		}
	}
	return out
}
