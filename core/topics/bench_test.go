package topics

import (
	"fmt"
	"testing"
)

// benchTrie returns a trie holding about n subscriptions of n subscribers: a
// literal "sensors/{i}/temp" each, plus "sensors/+/temp" for every 100th
// subscriber and "sensors/#" for every 1000th. The topic benchTopic matches
// one literal and all wildcard subscriptions.
func benchTrie(n, cacheSize int) *Trie[*client] {
	trie := New[*client](cacheSize)
	for i := range n {
		c := &client{fmt.Sprint(i)}
		trie.Subscribe([]byte(fmt.Sprintf("sensors/%d/temp", i)), Sub[*client]{Subscriber: c, QoS: 1})
		if i%100 == 0 {
			trie.Subscribe([]byte("sensors/+/temp"), Sub[*client]{Subscriber: c, ID: 1})
		}
		if i%1000 == 0 {
			trie.Subscribe([]byte("sensors/#"), Sub[*client]{Subscriber: c, QoS: 2, ID: 2})
		}
	}
	return trie
}

var benchTopic = []byte("sensors/42/temp")

var benchSizes = []int{100, 10_000}

// benchMatch measures Match of benchTopic in tries of benchSizes
// subscriptions with the given cache size.
func benchMatch(b *testing.B, cacheSize int) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			trie := benchTrie(n, cacheSize)
			deliveries := len(trie.Match(benchTopic).Subs)
			b.ReportAllocs()
			for b.Loop() {
				trie.Match(benchTopic)
			}
			b.ReportMetric(float64(deliveries), "deliveries/op")
		})
	}
}

// BenchmarkMatchCached measures the hit path: one read lock, one map lookup.
func BenchmarkMatchCached(b *testing.B) { benchMatch(b, 0) }

// BenchmarkMatchUncached measures the miss path: the trie walk and building a
// Result (the cache is disabled).
func BenchmarkMatchUncached(b *testing.B) { benchMatch(b, -1) }

// BenchmarkMatchCachedParallel shows what readers on every core pay for the
// shared read lock.
func BenchmarkMatchCachedParallel(b *testing.B) {
	trie := benchTrie(10_000, 0)
	trie.Match(benchTopic)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			trie.Match(benchTopic)
		}
	})
}

// BenchmarkSubscribeUnsubscribe measures one Subscribe plus one Unsubscribe
// in a trie of 10,000 subscriptions, and in a node crowded with 100,000
// subscribers of one filter. The cost of the cache misses that follow a
// change is BenchmarkMatchUncached's.
func BenchmarkSubscribeUnsubscribe(b *testing.B) {
	for _, filter := range []string{"sensors/42/temp", "sensors/+/humidity"} {
		b.Run("filter="+filter, func(b *testing.B) {
			trie := benchTrie(10_000, 0)
			c, f := &client{"churn"}, []byte(filter)
			b.ReportAllocs()
			for b.Loop() {
				trie.Subscribe(f, Sub[*client]{Subscriber: c, QoS: 1})
				trie.Unsubscribe(f, c)
			}
		})
	}
	b.Run("crowded=100000", func(b *testing.B) {
		trie := New[*client](0)
		crowd := make([]*client, 100_000)
		hot := []byte("hot/topic")
		for i := range crowd {
			crowd[i] = &client{fmt.Sprint(i)}
			trie.Subscribe(hot, Sub[*client]{Subscriber: crowd[i]})
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			c := crowd[i%len(crowd)]
			trie.Unsubscribe(hot, c)
			trie.Subscribe(hot, Sub[*client]{Subscriber: c})
			i += 7919 // a prime: visits the crowd in a scattered order
		}
	})
}

func BenchmarkTreeMatchFilter(b *testing.B) {
	tree := NewTree[int]()
	for i := range 10_000 {
		tree.Set([]byte(fmt.Sprintf("sensors/%d/temp", i)), i)
		tree.Set([]byte(fmt.Sprintf("sensors/%d/humidity", i)), i)
	}
	for _, filter := range []string{"sensors/42/temp", "sensors/+/temp", "sensors/#"} {
		b.Run("filter="+filter, func(b *testing.B) {
			f := []byte(filter)
			b.ReportAllocs()
			for b.Loop() {
				tree.MatchFilter(f, func(string, int) bool { return true })
			}
		})
	}
}
