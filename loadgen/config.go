package loadgen

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

// Mode is how a run paces its publishers.
type Mode string

// The modes.
const (
	// OpenLoop publishes at a fixed rate; latency is measured from each
	// message's intended send time. The default.
	OpenLoop Mode = "open-loop"
	// MaxRate publishes as fast as a window of in-flight messages allows
	// (closed loop). It measures throughput; its latencies are from the
	// actual send time, and are labelled so.
	MaxRate Mode = "max-rate"
	// RateStep runs open-loop steps of rising rate and reports the highest
	// rate sustained within a p99 latency bound.
	RateStep Mode = "rate-step"
)

// Config is one run's settings. The zero value of a field means its
// default (see withDefaults).
type Config struct {
	Addr     string   // the broker, host:port
	Scenario Scenario // the workload
	Size     int      // payload bytes, at least HeaderSize (default 64)
	QoS      mqtt.QoS // publish and subscribe QoS
	Version  mqtt.Version

	Mode     Mode
	Rate     float64       // open loop: messages per second, all publishers together
	Warmup   time.Duration // sent but not measured, before each measurement (default 1s)
	Duration time.Duration // the measurement (default 5s)
	Drain    time.Duration // longest wait for the last deliveries (default 5s)
	Window   int           // max rate: deliveries in flight per publisher (default 65536)
	Step     StepConfig    // rate-step

	// BrokerPID, when known, lets the run read the broker's CPU and memory
	// from /proc.
	BrokerPID int
	// ReadBufferSize is the subscribers' read buffer (client default 64 KiB).
	ReadBufferSize int
	// Dialer opens the subscribers' and publishers' connections (nil: default).
	Dialer *net.Dialer
	// Prefix starts client identifiers and topics (default: "lg" and a
	// random suffix, so that runs sharing a broker never mix).
	Prefix string
	// Status, when set, is called about once a second with live counters.
	Status func(Status)
	// Seed makes topic choices repeatable.
	Seed uint64
}

// StepConfig sets the rate-step search: rates Start, Start*Factor, ...
// each for the run's Warmup and Duration, until a step's p99 latency
// exceeds MaxP99, its rate falls short of the target or it loses messages,
// or MaxSteps steps have run.
type StepConfig struct {
	Start    float64
	Factor   float64
	MaxP99   time.Duration
	MaxSteps int
}

// Defaults.
const (
	DefaultSize     = 64
	DefaultWarmup   = time.Second
	DefaultDuration = 5 * time.Second
	DefaultDrain    = 5 * time.Second
	DefaultWindow   = 1 << 16
)

// ErrBadConfig is wrapped by the errors of Config.withDefaults.
var ErrBadConfig = errors.New("loadgen: bad configuration")

func (c Config) withDefaults() (Config, error) {
	if c.Scenario == nil {
		return c, fmt.Errorf("%w: no scenario", ErrBadConfig)
	}
	if c.Size == 0 {
		c.Size = DefaultSize
	}
	if c.Size < HeaderSize {
		return c, fmt.Errorf("%w: message size %d is under the %d-byte header", ErrBadConfig, c.Size, HeaderSize)
	}
	if c.QoS > 2 {
		return c, fmt.Errorf("%w: QoS %d", ErrBadConfig, c.QoS)
	}
	if c.Version == 0 {
		c.Version = mqtt.V5
	}
	if c.Mode == "" {
		c.Mode = OpenLoop
	}
	if c.Warmup == 0 {
		c.Warmup = DefaultWarmup
	}
	c.Warmup = max(c.Warmup, 0)
	if c.Duration <= 0 {
		c.Duration = DefaultDuration
	}
	if c.Drain <= 0 {
		c.Drain = DefaultDrain
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	switch c.Mode {
	case OpenLoop, MaxRate:
	case RateStep:
		s := &c.Step
		if s.Start <= 0 {
			s.Start = max(c.Rate, 1000)
		}
		if s.Factor <= 1 {
			s.Factor = 1.5
		}
		if s.MaxP99 <= 0 {
			s.MaxP99 = 10 * time.Millisecond
		}
		if s.MaxSteps <= 0 {
			s.MaxSteps = 20
		}
	default:
		return c, fmt.Errorf("%w: unknown mode %q (want %s, %s or %s)", ErrBadConfig, c.Mode, OpenLoop, MaxRate, RateStep)
	}
	return c, nil
}
