package loadgen

import (
	"errors"
	"runtime"
	"time"
)

// ProcStat is a process's CPU time and memory at one moment.
type ProcStat struct {
	CPU     time.Duration // user + system time so far
	RSS     int64         // resident set size, bytes
	PeakRSS int64         // peak resident set size, bytes
}

// ErrNoProcfs is returned where process statistics cannot be read.
var ErrNoProcfs = errors.New("loadgen: process statistics need Linux /proc")

// Usage is what a process used over a measurement window.
type Usage struct {
	// CPU is CPU time over wall time: 1.0 is one core busy.
	CPU     float64 `json:"cpu_cores"`
	RSS     int64   `json:"rss_bytes,omitempty"`
	PeakRSS int64   `json:"peak_rss_bytes,omitempty"`
}

// usageBetween turns two samples taken wall apart into a Usage.
func usageBetween(a, b ProcStat, wall time.Duration) Usage {
	u := Usage{RSS: b.RSS, PeakRSS: b.PeakRSS}
	if wall > 0 {
		u.CPU = float64(b.CPU-a.CPU) / float64(wall)
	}
	return u
}

// GoRuntime is the loadgen's Go runtime over a measurement window.
type GoRuntime struct {
	GOMAXPROCS   int     `json:"gomaxprocs"`
	GCs          uint32  `json:"gc_cycles"`
	GCPauseTotal float64 `json:"gc_pause_total_seconds"`
	GCPauseMax   float64 `json:"gc_pause_max_seconds"`
}

// goRuntimeBetween compares two runtime.MemStats readings.
func goRuntimeBetween(a, b *runtime.MemStats) GoRuntime {
	g := GoRuntime{GOMAXPROCS: runtime.GOMAXPROCS(0), GCs: b.NumGC - a.NumGC}
	g.GCPauseTotal = time.Duration(b.PauseTotalNs - a.PauseTotalNs).Seconds()
	for i := a.NumGC; i < b.NumGC && i-a.NumGC < uint32(len(b.PauseNs)); i++ {
		g.GCPauseMax = max(g.GCPauseMax, time.Duration(b.PauseNs[i%uint32(len(b.PauseNs))]).Seconds())
	}
	return g
}
