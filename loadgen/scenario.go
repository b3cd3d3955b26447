package loadgen

import (
	"errors"
	"fmt"
	"time"
)

// A Scenario describes a workload: which clients subscribe to what and who
// publishes where. The runner (Connect, Session.Measure) executes the Plan
// against any MQTT broker.
type Scenario interface {
	// Name is the scenario's short name: fanout, pairs, skewed, idle, churn.
	Name() string
	// Params names its sizes as key=value pairs joined by '/', for file
	// names and benchmark names, e.g. "pubs=1/subs=100".
	Params() string
	// Plan returns the clients to connect. prefix starts every client
	// identifier and topic, so that runs sharing a broker do not mix.
	Plan(prefix string) (*Plan, error)
}

// Plan is what a Scenario asks of the runner.
type Plan struct {
	Subscribers []SubscriberSpec
	Publishers  []PublisherSpec
	// Idle connections, opened (paced) before the measurement and kept
	// open, doing nothing, until the session closes.
	Idle IdleSpec
	// Churn drops subscribers abruptly during the measurement and
	// reconnects them within their session expiry.
	Churn ChurnSpec
}

// SubscriberSpec is one subscribing client. Its filters must not overlap
// (brokers differ in how many copies overlapping subscriptions get).
type SubscriberSpec struct {
	ClientID string
	Filters  []string
}

// PublisherSpec is one publishing client and the topics it publishes to.
// Each (publisher, topic) pair is a stream with its own sequence numbers.
type PublisherSpec struct {
	ClientID string
	Topics   []string
	// Zipf, when above 1, picks each message's topic with Zipf popularity
	// of exponent Zipf (the first topics most often); otherwise topics are
	// used in turn.
	Zipf float64
	// External publishers are not connected by the loadgen: another
	// process (the flooding sink) sends their streams.
	External bool
}

// IdleSpec describes idle connections.
type IdleSpec struct {
	Connections int
	// ConnectRate paces the connects, per second (0: as fast as possible).
	ConnectRate float64
	// Sources is the number of loopback source addresses to spread the
	// connections over: 127.0.0.2, 127.0.0.3, ... (about 28,000 ports
	// each). 0 uses the system's choice; only for loopback targets.
	Sources int
	// Subscribe gives each idle connection one subscription of its own.
	Subscribe bool
	// Prefix starts the idle clients' identifiers and topics.
	Prefix string
}

// ChurnSpec describes the lost-client churn.
type ChurnSpec struct {
	// Share of the subscribers dropped each round (0 disables churn).
	Share float64
	// Every is the time between rounds; Away how long a dropped client
	// stays away before it reconnects.
	Every, Away time.Duration
	// Expiry is the session expiry the subscribers ask for; it must exceed
	// Away and stay within the broker's grace period.
	Expiry time.Duration
}

// Scenario errors.
var (
	ErrNoSubscribers = errors.New("loadgen: a scenario needs at least one subscriber")
	ErrNoPublishers  = errors.New("loadgen: a scenario needs at least one publisher")
)

// FanOut is one topic, Publishers publishing to it and Subscribers
// subscribed to it: every message fans out to every subscriber.
type FanOut struct {
	Publishers  int
	Subscribers int
}

// Name implements Scenario.
func (FanOut) Name() string { return "fanout" }

// Params implements Scenario.
func (f FanOut) Params() string { return fmt.Sprintf("pubs=%d/subs=%d", f.Publishers, f.Subscribers) }

// Plan implements Scenario.
func (f FanOut) Plan(prefix string) (*Plan, error) {
	if f.Subscribers < 1 {
		return nil, ErrNoSubscribers
	}
	if f.Publishers < 1 {
		return nil, ErrNoPublishers
	}
	topic := prefix + "/fanout"
	p := &Plan{}
	for i := range f.Subscribers {
		p.Subscribers = append(p.Subscribers, SubscriberSpec{ClientID: fmt.Sprintf("%s-s%d", prefix, i), Filters: []string{topic}})
	}
	for i := range f.Publishers {
		p.Publishers = append(p.Publishers, PublisherSpec{ClientID: fmt.Sprintf("%s-p%d", prefix, i), Topics: []string{topic}})
	}
	return p, nil
}

// Pairs is N publishers and N subscribers, publisher i publishing to a
// topic only subscriber i takes: N independent flows.
type Pairs struct{ N int }

// Name implements Scenario.
func (Pairs) Name() string { return "pairs" }

// Params implements Scenario.
func (p Pairs) Params() string { return fmt.Sprintf("pairs=%d", p.N) }

// Plan implements Scenario.
func (p Pairs) Plan(prefix string) (*Plan, error) {
	if p.N < 1 {
		return nil, ErrNoSubscribers
	}
	return pairsPlan(prefix, "pair", p.N, false), nil
}

// pairsPlan builds n flows publisher i -> topic prefix/kind/i -> subscriber i.
func pairsPlan(prefix, kind string, n int, external bool) *Plan {
	plan := &Plan{}
	for i := range n {
		topic := fmt.Sprintf("%s/%s/%d", prefix, kind, i)
		plan.Subscribers = append(plan.Subscribers, SubscriberSpec{ClientID: fmt.Sprintf("%s-s%d", prefix, i), Filters: []string{topic}})
		plan.Publishers = append(plan.Publishers, PublisherSpec{ClientID: fmt.Sprintf("%s-p%d", prefix, i), Topics: []string{topic}, External: external})
	}
	return plan
}

// Churn is a fan-out whose subscribers keep sessions: each round, a Share
// of them is dropped abruptly (network connection closed, no DISCONNECT)
// and reconnects after Away, resuming its session. Every message must
// still arrive, in order (at QoS 1, a message being delivered when the
// connection dropped may arrive twice, flagged DUP).
type Churn struct {
	Subscribers int
	Share       float64
	Every, Away time.Duration
	Expiry      time.Duration
}

// Name implements Scenario.
func (Churn) Name() string { return "churn" }

// Params implements Scenario.
func (c Churn) Params() string {
	return fmt.Sprintf("subs=%d/share=%g/every=%v/away=%v", c.Subscribers, c.Share, c.Every, c.Away)
}

// Plan implements Scenario.
func (c Churn) Plan(prefix string) (*Plan, error) {
	p, err := FanOut{Publishers: 1, Subscribers: c.Subscribers}.Plan(prefix)
	if err != nil {
		return nil, err
	}
	if c.Share <= 0 || c.Share > 1 || c.Every <= 0 || c.Away <= 0 || c.Expiry <= c.Away {
		return nil, fmt.Errorf("loadgen: churn needs 0 < share <= 1, every > 0, away > 0 and expiry > away")
	}
	p.Churn = ChurnSpec{Share: c.Share, Every: c.Every, Away: c.Away, Expiry: c.Expiry}
	return p, nil
}

// Idle opens Connections idle connections (paced at ConnectRate per
// second, from Sources loopback addresses) and measures a small probe
// flow, one publisher to one subscriber, while they are open. With the
// broker's process id the run also reports its memory per connection.
type Idle struct {
	Connections int
	ConnectRate float64
	Sources     int
	Subscribe   bool
}

// Name implements Scenario.
func (Idle) Name() string { return "idle" }

// Params implements Scenario.
func (i Idle) Params() string { return fmt.Sprintf("conns=%d", i.Connections) }

// Plan implements Scenario.
func (i Idle) Plan(prefix string) (*Plan, error) {
	p := pairsPlan(prefix, "probe", 1, false)
	p.Idle = IdleSpec{Connections: i.Connections, ConnectRate: i.ConnectRate, Sources: i.Sources, Subscribe: i.Subscribe, Prefix: prefix + "-idle"}
	return p, nil
}

// sinkScenario is the flooding sink's workload: n subscribers, each fed
// its own stream by the sink (an external publisher) on prefix/sink/i.
type sinkScenario struct{ n int }

func (sinkScenario) Name() string     { return "ceiling" }
func (s sinkScenario) Params() string { return fmt.Sprintf("subs=%d", s.n) }
func (s sinkScenario) Plan(prefix string) (*Plan, error) {
	return pairsPlan(prefix, "sink", s.n, true), nil
}
