package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/pubsubx/pubsubx/core/mqtt"
	"github.com/pubsubx/pubsubx/loadgen"
)

// workloadFlags are the flags run and compare share: the scenario and its
// sizes, the measurement, and the outputs.
type workloadFlags struct {
	scenario                      string
	pubs, subs, pairs             int
	topics, topicsPerSub, wild    int
	zipf                          float64
	conns, sources                int
	connectRate                   float64
	idleSubscribe                 bool
	churnShare                    float64
	churnEvery, churnAway, expiry time.Duration

	size, qos   int
	mqttVersion string
	mode        string
	rate        float64
	warmup, dur time.Duration
	drain       time.Duration
	window      int
	step        loadgen.StepConfig
	readBuffer  int
	trials      int
	procs       int
	ceiling     time.Duration
	ceilingSubs int
	ceilingSize int
	out, name   string
	quiet       bool
	cpuProfile  string
}

func (w *workloadFlags) register(fs *flag.FlagSet, trials int) {
	fs.StringVar(&w.scenario, "scenario", "fanout", "workload: fanout, pairs, skewed, idle or churn")
	fs.IntVar(&w.pubs, "pubs", 1, "publishers (fanout, skewed)")
	fs.IntVar(&w.subs, "subs", 100, "subscribers (fanout, churn; skewed: exact-topic subscribers)")
	fs.IntVar(&w.pairs, "pairs", 100, "publisher-subscriber pairs on their own topics (pairs)")
	fs.IntVar(&w.topics, "topics", 1000, "topics (skewed)")
	fs.IntVar(&w.topicsPerSub, "topics-per-sub", 10, "topics per exact-topic subscriber (skewed)")
	fs.IntVar(&w.wild, "wildcard-subs", 10, "subscribers to a prefix/sk/G/+ wildcard (skewed)")
	fs.Float64Var(&w.zipf, "zipf", 1.1, "Zipf exponent of topic popularity, above 1 (skewed)")
	fs.IntVar(&w.conns, "conns", 1000, "idle connections (idle; about 19,000 at most with ulimit -n 20000)")
	fs.Float64Var(&w.connectRate, "connect-rate", 2000, "idle connects per second (idle; 0: as fast as possible)")
	fs.IntVar(&w.sources, "sources", 16, "loopback source addresses 127.0.0.2... for idle connections (idle); several, because back-to-back trials leave tens of thousands of ports in TIME_WAIT")
	fs.BoolVar(&w.idleSubscribe, "idle-subscribe", false, "give each idle connection a subscription of its own (idle)")
	fs.Float64Var(&w.churnShare, "churn-share", 0.1, "share of subscribers dropped per round (churn)")
	fs.DurationVar(&w.churnEvery, "churn-every", time.Second, "time between drop rounds (churn)")
	fs.DurationVar(&w.churnAway, "churn-away", 500*time.Millisecond, "how long a dropped subscriber stays away (churn)")
	fs.DurationVar(&w.expiry, "churn-expiry", 30*time.Second, "session expiry the churned subscribers ask for, within the broker's grace (churn)")
	fs.IntVar(&w.size, "size", loadgen.DefaultSize, "payload bytes (at least the 48-byte loadgen header)")
	fs.IntVar(&w.qos, "qos", -1, "publish and subscribe QoS (default 1 for churn, whose messages must survive a drop, else 0)")
	fs.StringVar(&w.mqttVersion, "mqtt", "5", "MQTT version: 5 or 3.1.1")
	fs.StringVar(&w.mode, "mode", "open", "open (open loop at -rate), max (closed loop: maximum rate, labelled so) or step (rising rates until p99 > -step-p99)")
	fs.Float64Var(&w.rate, "rate", 10000, "messages published per second, all publishers together (open loop; idle: the probe flow)")
	fs.DurationVar(&w.warmup, "warmup", loadgen.DefaultWarmup, "sent but not measured, before each measurement")
	fs.DurationVar(&w.dur, "duration", loadgen.DefaultDuration, "measured time per trial (per step)")
	fs.DurationVar(&w.drain, "drain", loadgen.DefaultDrain, "longest wait for the last deliveries")
	fs.IntVar(&w.window, "window", loadgen.DefaultWindow, "deliveries in flight per publisher (max rate: messages times their subscribers)")
	fs.Float64Var(&w.step.Start, "step-start", 0, "first rate of the rate-step search (default -rate)")
	fs.Float64Var(&w.step.Factor, "step-factor", 1.5, "rate multiplier between steps")
	fs.DurationVar(&w.step.MaxP99, "step-p99", 10*time.Millisecond, "p99 latency bound of a sustained step")
	fs.IntVar(&w.step.MaxSteps, "step-max", 20, "most steps")
	fs.IntVar(&w.readBuffer, "read-buffer", 0, "subscribers' read buffer in bytes (0: the client's 64 KiB)")
	fs.IntVar(&w.trials, "trials", trials, "trials per target")
	fs.IntVar(&w.procs, "procs", 1, "GOMAXPROCS of the loadgen")
	fs.DurationVar(&w.ceiling, "ceiling", 2*time.Second, "measure the loadgen's ceiling against a flooding sink for this long (0: skip)")
	fs.IntVar(&w.ceilingSubs, "ceiling-subs", 100, "subscribers of the ceiling measurement")
	fs.IntVar(&w.ceilingSize, "ceiling-size", 64, "message size of the ceiling measurement")
	fs.StringVar(&w.out, "out", "", "results folder (default results/DATE_NAME)")
	fs.StringVar(&w.name, "name", "", "NAME of the default results folder (default: scenario and sizes)")
	fs.BoolVar(&w.quiet, "quiet", false, "no status lines on stderr")
	fs.StringVar(&w.cpuProfile, "cpuprofile", "", "write the loadgen's own CPU profile to this file (to see what the measurer spends)")
}

// scenarioFromFlags builds the scenario.
func (w *workloadFlags) scenarioFromFlags() (loadgen.Scenario, error) {
	switch w.scenario {
	case "fanout":
		return loadgen.FanOut{Publishers: w.pubs, Subscribers: w.subs}, nil
	case "pairs":
		return loadgen.Pairs{N: w.pairs}, nil
	case "skewed":
		return loadgen.Skewed{Publishers: w.pubs, Topics: w.topics, Subscribers: w.subs, TopicsPerSubscriber: w.topicsPerSub,
			WildcardSubscribers: w.wild, Zipf: w.zipf, Seed: 1}, nil
	case "idle":
		return loadgen.Idle{Connections: w.conns, ConnectRate: w.connectRate, Sources: w.sources, Subscribe: w.idleSubscribe}, nil
	case "churn":
		return loadgen.Churn{Subscribers: w.subs, Share: w.churnShare, Every: w.churnEvery, Away: w.churnAway, Expiry: w.expiry}, nil
	}
	return nil, fmt.Errorf("unknown scenario %q: want fanout, pairs, skewed, idle or churn", w.scenario)
}

// config builds the run's loadgen.Config.
func (w *workloadFlags) config() (loadgen.Config, error) {
	sc, err := w.scenarioFromFlags()
	if err != nil {
		return loadgen.Config{}, err
	}
	qos := w.qos
	if qos < 0 {
		qos = 0
		if w.scenario == "churn" {
			qos = 1
		}
	}
	cfg := loadgen.Config{
		Scenario: sc, Size: w.size, QoS: mqtt.QoS(qos), Rate: w.rate, Warmup: w.warmup, Duration: w.dur,
		Drain: w.drain, Window: w.window, Step: w.step, ReadBufferSize: w.readBuffer, Seed: 1,
	}
	switch w.mqttVersion {
	case "5", "5.0":
		cfg.Version = mqtt.V5
	case "3.1.1", "311", "4":
		cfg.Version = mqtt.V311
	default:
		return cfg, fmt.Errorf("unknown MQTT version %q: want 5 or 3.1.1", w.mqttVersion)
	}
	switch w.mode {
	case "open", string(loadgen.OpenLoop):
		cfg.Mode = loadgen.OpenLoop
	case "max", string(loadgen.MaxRate):
		cfg.Mode = loadgen.MaxRate
	case "step", string(loadgen.RateStep):
		cfg.Mode = loadgen.RateStep
		if cfg.Step.Start <= 0 {
			cfg.Step.Start = w.rate
		}
	default:
		return cfg, fmt.Errorf("unknown mode %q: want open, max or step", w.mode)
	}
	if cfg.Warmup == 0 {
		cfg.Warmup = -1 // the flag's 0 means none; Config's 0 means the default
	}
	return cfg, nil
}

// settings describes the run for run.json.
func (w *workloadFlags) settings(cfg loadgen.Config) loadgen.Settings {
	s := loadgen.Settings{
		Scenario: cfg.Scenario.Name(), Params: cfg.Scenario.Params(), Mode: cfg.Mode, Size: cfg.Size, QoS: int(cfg.QoS),
		MQTTVersion: cfg.Version.String(), Warmup: max(cfg.Warmup, 0).Seconds(), Duration: cfg.Duration.Seconds(), Trials: w.trials,
	}
	switch cfg.Mode {
	case loadgen.OpenLoop:
		s.Rate = cfg.Rate
	case loadgen.MaxRate:
		s.Window = cfg.Window
	case loadgen.RateStep:
		step := cfg.Step
		s.Step = &step
	}
	return s
}

// outDir returns the results folder: -out, or results/DATE_NAME.
func (w *workloadFlags) outDir(cfg loadgen.Config, now time.Time) string {
	if w.out != "" {
		return w.out
	}
	name := w.name
	if name == "" {
		name = cfg.Scenario.Name() + "_" + strings.NewReplacer("/", "_", "=", "").Replace(cfg.Scenario.Params())
		switch cfg.Mode {
		case loadgen.OpenLoop:
			name += fmt.Sprintf("_rate%.0f", cfg.Rate)
		case loadgen.MaxRate:
			name += "_maxrate"
		case loadgen.RateStep:
			name += "_steps"
		}
	}
	return "results/" + now.Format("2006-01-02") + "_" + name
}
