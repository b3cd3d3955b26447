package loadgen

import (
	"fmt"
	"math/rand/v2"
)

// Skewed is many topics with skewed popularity: Publishers publish to
// Topics topics picking each message's topic with Zipf popularity (exponent
// Zipf, above 1), Subscribers subscribe each to TopicsPerSubscriber
// distinct topics drawn with the same popularity, and WildcardSubscribers
// subscribe each to one group of topics with a '+' wildcard
// (prefix/sk/G/+, ten groups). Fan-out per message therefore varies from
// topic to topic. Seed makes the draw repeatable.
type Skewed struct {
	Publishers          int
	Topics              int
	Subscribers         int
	TopicsPerSubscriber int
	WildcardSubscribers int
	Zipf                float64
	Seed                uint64
}

// skewedGroups is the number of wildcard groups the topics fall into.
const skewedGroups = 10

// Name implements Scenario.
func (Skewed) Name() string { return "skewed" }

// Params implements Scenario.
func (s Skewed) Params() string {
	return fmt.Sprintf("pubs=%d/topics=%d/subs=%d/wild=%d", s.Publishers, s.Topics, s.Subscribers, s.WildcardSubscribers)
}

// Plan implements Scenario.
func (s Skewed) Plan(prefix string) (*Plan, error) {
	if s.Subscribers+s.WildcardSubscribers < 1 {
		return nil, ErrNoSubscribers
	}
	if s.Publishers < 1 || s.Topics < 1 {
		return nil, ErrNoPublishers
	}
	if s.Zipf <= 1 {
		return nil, fmt.Errorf("loadgen: skewed needs a Zipf exponent above 1, not %g", s.Zipf)
	}
	per := min(max(s.TopicsPerSubscriber, 1), s.Topics)
	topics := make([]string, s.Topics)
	for j := range topics {
		topics[j] = fmt.Sprintf("%s/sk/%d/%d", prefix, j%skewedGroups, j)
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x5eed))
	zipf := rand.NewZipf(rng, s.Zipf, 1, uint64(s.Topics-1))
	p := &Plan{}
	for i := range s.Subscribers {
		chosen := make(map[uint64]bool, per)
		var filters []string
		for len(filters) < per {
			if j := zipf.Uint64(); !chosen[j] {
				chosen[j] = true
				filters = append(filters, topics[j])
			}
		}
		p.Subscribers = append(p.Subscribers, SubscriberSpec{ClientID: fmt.Sprintf("%s-s%d", prefix, i), Filters: filters})
	}
	for i := range s.WildcardSubscribers {
		filter := fmt.Sprintf("%s/sk/%d/+", prefix, i%skewedGroups)
		p.Subscribers = append(p.Subscribers, SubscriberSpec{ClientID: fmt.Sprintf("%s-w%d", prefix, i), Filters: []string{filter}})
	}
	for i := range s.Publishers {
		p.Publishers = append(p.Publishers, PublisherSpec{ClientID: fmt.Sprintf("%s-p%d", prefix, i), Topics: topics, Zipf: s.Zipf})
	}
	return p, nil
}
