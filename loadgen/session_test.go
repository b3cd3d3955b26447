package loadgen

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// measureOnce connects cfg to a fresh broker on engine, measures one phase
// and returns the judged result.
func measureOnce(t *testing.T, engine string, cfg Config, ph Phase) *Result {
	t.Helper()
	srv := brokertest.Start(t, engine, broker.Config{Log: nil})
	cfg.Addr = srv.Addr
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Measure(ctx, ph)
	if err != nil {
		t.Fatal(err)
	}
	r.Judge(0)
	return r
}

func TestFanOutOpenLoop(t *testing.T) {
	cfg := Config{Scenario: FanOut{Publishers: 2, Subscribers: 5}, Rate: 2000}
	r := measureOnce(t, "goroutine", cfg, Phase{Rate: 2000, Warmup: 200 * time.Millisecond, Duration: 500 * time.Millisecond})
	t.Logf("%+v", r)
	if !r.Quiesced || r.Lost != 0 || r.Duplicates != 0 || r.Reordered != 0 {
		t.Errorf("want every message once, in order: quiesced %v lost %d dup %d reordered %d", r.Quiesced, r.Lost, r.Duplicates, r.Reordered)
	}
	if r.Sent != 1000 || r.Measured != 5*r.Sent || r.Expected != 5*1400 || r.Delivered != r.Expected {
		t.Errorf("sent %d measured %d expected %d delivered %d; want 1000, 5000, 7000, 7000", r.Sent, r.Measured, r.Expected, r.Delivered)
	}
	if r.Latency.Count != r.Measured || r.LastSubscriber.Count != r.Sent || r.PublisherLag.Count != r.Sent {
		t.Errorf("histogram counts: latency %d last-subscriber %d lag %d", r.Latency.Count, r.LastSubscriber.Count, r.PublisherLag.Count)
	}
	if r.LastSubscriber.P50 < r.Latency.P50 {
		t.Errorf("last-subscriber p50 %d under per-delivery p50 %d", r.LastSubscriber.P50, r.Latency.P50)
	}
}

func TestMaxRateCount(t *testing.T) {
	cfg := Config{Scenario: FanOut{Publishers: 1, Subscribers: 3}, Mode: MaxRate, Window: 100, QoS: mqtt.QoS(0)}
	r := measureOnce(t, "goroutine", cfg, Phase{Count: 5000})
	t.Logf("%+v", r)
	if r.Mode != MaxRate || r.Sent != 5000 || r.Delivered != 15000 || r.Lost != 0 {
		t.Errorf("mode %s sent %d delivered %d lost %d", r.Mode, r.Sent, r.Delivered, r.Lost)
	}
}

func TestPairs(t *testing.T) {
	r := measureOnce(t, "goroutine", Config{Scenario: Pairs{N: 4}}, Phase{Rate: 2000, Warmup: 100 * time.Millisecond, Duration: 300 * time.Millisecond})
	if r.Sent != 600 || r.Measured != 600 || r.Lost != 0 || r.Delivered != r.Expected {
		t.Errorf("sent %d measured %d lost %d delivered %d of %d; want 600 each, nothing lost", r.Sent, r.Measured, r.Lost, r.Delivered, r.Expected)
	}
	if r.LastSubscriber != r.Latency {
		t.Errorf("one receiver per message: last-subscriber %+v should equal per-delivery %+v", r.LastSubscriber, r.Latency)
	}
}

// TestSkewed: the expected receivers of each message come from matching
// the subscribers' filters (exact topics and wildcards): every delivery
// the broker makes is one the loadgen expected, and none is missing.
func TestSkewed(t *testing.T) {
	sc := Skewed{Publishers: 2, Topics: 50, Subscribers: 6, TopicsPerSubscriber: 5, WildcardSubscribers: 3, Zipf: 1.2, Seed: 7}
	r := measureOnce(t, "goroutine", Config{Scenario: sc}, Phase{Rate: 2000, Warmup: 100 * time.Millisecond, Duration: 400 * time.Millisecond})
	if r.Expected == 0 || r.Delivered != r.Expected || r.Lost != 0 || r.Duplicates != 0 || r.Malformed != 0 {
		t.Errorf("expected %d delivered %d lost %d dup %d malformed %d", r.Expected, r.Delivered, r.Lost, r.Duplicates, r.Malformed)
	}
	if r.Reordered != 0 {
		t.Errorf("%d reordered: streams are per (publisher, topic) and must stay in order", r.Reordered)
	}
	plan, err := sc.Plan("x")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range plan.Subscribers {
		seen := map[string]bool{}
		for _, f := range s.Filters {
			if seen[f] {
				t.Errorf("%s subscribes twice to %s", s.ClientID, f)
			}
			seen[f] = true
		}
	}
}

// TestChurn drops subscribers abruptly and brings them back within their
// session expiry: at QoS 1 every message still arrives, in order, and the
// messages queued while they were away are measured apart.
func TestChurn(t *testing.T) {
	sc := Churn{Subscribers: 6, Share: 0.34, Every: 150 * time.Millisecond, Away: 100 * time.Millisecond, Expiry: 10 * time.Second}
	r := measureOnce(t, "goroutine", Config{Scenario: sc, QoS: 1}, Phase{Rate: 1000, Warmup: 100 * time.Millisecond, Duration: 600 * time.Millisecond})
	if r.Churn == nil || r.Churn.Drops == 0 || r.Churn.Resumed != r.Churn.Drops || r.Churn.Failed != 0 {
		t.Fatalf("churn %+v: want drops, all resumed", r.Churn)
	}
	if r.Lost != 0 || r.Reordered != 0 || r.Delivered-r.Duplicates != r.Expected {
		t.Errorf("lost %d, reordered %d, delivered %d (%d duplicates) of %d: every message must arrive, in order",
			r.Lost, r.Reordered, r.Delivered, r.Duplicates, r.Expected)
	}
	if r.Queued == nil || r.Queued.Count == 0 || r.Queued.Max < int64(50*time.Millisecond) {
		t.Errorf("queued %+v: messages sent while a subscriber was away arrive about 100 ms late", r.Queued)
	}
}

// TestIdle opens idle connections from several loopback source addresses
// and measures the probe flow; the broker here is in this process, so its
// memory is this process's.
func TestIdle(t *testing.T) {
	sc := Idle{Connections: 50, ConnectRate: 2000, Sources: 3, Subscribe: true}
	srv := brokertest.Start(t, "goroutine", broker.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Connect(ctx, Config{Addr: srv.Addr, Scenario: sc, BrokerPID: os.Getpid()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st := srv.Broker.Stats(); st.Connections != 50+2 {
		t.Errorf("broker holds %d connections, want 52", st.Connections)
	}
	r, err := s.Measure(ctx, Phase{Rate: 500, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	i := r.Idle
	if i == nil || i.Connected != 50 || i.Failed != 0 || i.Sources != 3 || i.RSSBefore == 0 || i.RSSAfter == 0 {
		t.Fatalf("idle %+v", i)
	}
	if r.Measured != 100 || r.Lost != 0 {
		t.Errorf("probe: %d measured, %d lost; want 100, 0", r.Measured, r.Lost)
	}
}
