// Package loadgen is PubSubX's load generator: it measures MQTT brokers
// (PubSubX's engines, mosquitto, any broker) with workloads described by a
// Scenario, honestly enough that the numbers compare.
//
// # Method
//
// Open loop by default: a Pacer says when each message is due, message n
// at the start plus n/rate, and latency is measured from that intended
// time, so a stalled broker or loadgen shows up in the percentiles instead
// of slowing the schedule down (no coordinated omission). The publisher's
// lag (actual minus intended send time) is recorded too. MaxRate runs are
// closed loop (a window of deliveries in flight) and measure throughput;
// RateStep searches the highest rate sustained within a p99 bound.
//
// Every payload starts with a Header: sequence numbers, publisher and
// stream, the number of receivers expected, and the intended and actual
// send times on a monotonic clock shared by the loadgen's processes (Now).
// Each subscriber counts lost, duplicate and reordered messages from the
// sequence numbers and records each delivery's latency in its own
// HdrHistogram (1 µs to 60 s, 3 significant digits), merged when the
// measurement ends (never averaged). A fan-out tracker per publisher gives
// the last-subscriber latency of every message. The receive path costs a
// few loads, one histogram increment and one atomic add per message, on
// top of core/client's zero-allocation reader: one core takes in over ten
// million 64-byte messages a second, and MeasureCeiling measures that
// ceiling against a flooding sink (ServeSink) so that every report states
// it. Result.Judge flags the results the loadgen, rather than the broker,
// may have set (LoadgenBound).
//
// # Use
//
//	s, err := loadgen.Connect(ctx, loadgen.Config{Addr: addr, Scenario: loadgen.FanOut{Publishers: 1, Subscribers: 100}})
//	...
//	defer s.Close()
//	r, err := s.Measure(ctx, loadgen.Phase{Rate: 10000, Warmup: time.Second, Duration: 5 * time.Second})
//	r.Judge(ceiling)
//
// A Comparison starts brokers itself (Launcher: pubsubx-server with an
// engine, mosquitto with a generated configuration, pinned with taskset),
// interleaves their trials and fills a RunRecord, which WriteResults turns
// into a results folder: run.json, .hgrm files, bench.txt, report.md and
// SVG plots. cmd/pubsubx-loadgen is the command line on top.
//
// # Concurrency
//
// A Session is used by one goroutine at a time (Measure, StartBurst,
// Close); it runs a goroutine per publisher during a phase, the clients'
// reader goroutines, and a status and a sampling goroutine. Results,
// records and histograms returned are the caller's. The Config.Status
// callback runs on its own goroutine.
package loadgen
