package engines_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/logx"
	"github.com/pubsubx/pubsubx/engines/registry"
	"github.com/pubsubx/pubsubx/loadgen"
)

// fanoutWindow is the deliveries the benchmark's publisher keeps in flight
// (closed loop): enough to keep the broker busy, bounded so that no
// subscriber's outbound queue overflows.
const fanoutWindow = 1 << 16

// BenchmarkFanout measures fan-out through each engine: one publisher to
// subs subscribers on one topic, size-byte QoS 0 messages, through a
// broker in this process on loopback, with the loadgen's subscribers
// (core/client) taking them in. The publisher runs closed loop (at most
// fanoutWindow deliveries in flight), so this is throughput; p99-ns is the
// per-delivery latency from the actual send time at that throughput. One
// op is one published message (subs deliveries); msgs/s counts
// deliveries. Compare the engines with
//
//	go test ./engines/ -run '^$' -bench BenchmarkFanout -count 5 | tee bench.txt
//	benchstat -col /engine bench.txt
//
// With GOMAXPROCS=1 (-cpu 1) broker and subscribers share one core: the
// number is then a lower bound of the broker's, since the loadgen's
// receive path takes its share (see the loadgen's ceiling).
func BenchmarkFanout(b *testing.B) {
	for _, engine := range registry.Names() {
		for _, subs := range []int{100, 1000} {
			for _, size := range []int{64, 1024} {
				b.Run(fmt.Sprintf("engine=%s/subs=%d/size=%d", engine, subs, size), func(b *testing.B) {
					benchmarkFanout(b, engine, subs, size)
				})
			}
		}
	}
}

func benchmarkFanout(b *testing.B, engine string, subs, size int) {
	srv := brokertest.Start(b, engine, broker.Config{Log: logx.New(io.Discard, logx.Error)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sess, err := loadgen.Connect(ctx, loadgen.Config{
		Addr: srv.Addr, Scenario: loadgen.FanOut{Publishers: 1, Subscribers: subs}, Size: size,
		Mode: loadgen.MaxRate, Window: fanoutWindow, Drain: 30 * time.Second,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	burst, err := sess.StartBurst(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size * subs))
	for b.Loop() {
		if err := burst.Send(); err != nil {
			b.Fatal(err)
		}
	}
	r, err := burst.Finish()
	if err != nil {
		b.Fatal(err)
	}
	if r.Lost != 0 || r.Duplicates != 0 || r.Reordered != 0 {
		b.Fatalf("%d lost, %d duplicates, %d reordered of %d deliveries", r.Lost, r.Duplicates, r.Reordered, r.Expected)
	}
	b.ReportMetric(r.DeliveryRate, "msgs/s")
	b.ReportMetric(float64(r.Latency.P99), "p99-ns")
}
