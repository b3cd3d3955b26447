package topics

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// refMatch is the plain reference matcher the property tests trust: split
// both at '/', compare level by level.
func refMatch(filter, topic string) bool {
	f, tp := strings.Split(filter, "/"), strings.Split(topic, "/")
	if strings.HasPrefix(topic, "$") && (f[0] == "+" || f[0] == "#") {
		return false
	}
	for i, level := range f {
		if level == "#" {
			return i == len(f)-1 // all i levels before it matched
		}
		if i >= len(tp) || (level != "+" && level != tp[i]) {
			return false
		}
	}
	return len(f) == len(tp)
}

// randomTopic returns a topic name of 1 to 4 levels from a small alphabet, so
// that random filters often match; "$s" can start it.
func randomTopic(rng *rand.Rand) string {
	levels := []string{"a", "b", "", "$s", "c"}
	n := 1 + rng.IntN(4)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = levels[rng.IntN(len(levels))]
	}
	return strings.Join(parts, "/")
}

// randomFilter returns a valid filter over the same alphabet plus wildcards.
func randomFilter(rng *rand.Rand) string {
	levels := []string{"a", "b", "", "+", "+", "$s"}
	n := rng.IntN(4)
	parts := make([]string, 0, n+1)
	for range n {
		parts = append(parts, levels[rng.IntN(len(levels))])
	}
	if n == 0 || rng.IntN(3) == 0 {
		parts = append(parts, "#")
	}
	return strings.Join(parts, "/")
}

func TestMatchAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		trie := New[*client](16)
		filters := make([]string, 40)
		clients := make([]*client, len(filters))
		for i := range filters {
			filters[i] = randomFilter(rng)
			clients[i] = &client{fmt.Sprint(i)}
			trie.Subscribe([]byte(filters[i]), Sub[*client]{Subscriber: clients[i]})
		}
		for range 60 {
			topic := randomTopic(rng)
			var want []string
			for i, f := range filters {
				if refMatch(f, topic) {
					want = append(want, clients[i].name)
				}
			}
			var got []string
			for _, d := range trie.Match([]byte(topic)).Subs {
				got = append(got, d.Subscriber.name)
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("trial %d: topic %q: matched %v, want %v (filters %q)",
					trial, topic, got, want, filters)
			}
		}
	}
}

// subKey identifies a subscription in the model of TestTrieAgainstModel.
type subKey struct {
	subscriber   *client
	group, plain string
}

// TestTrieAgainstModel runs random Subscribe, Unsubscribe and Match calls
// against a map of subscriptions and a result computed plainly from it. The
// cache is tiny so that eviction and invalidation are exercised.
func TestTrieAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	clients := []*client{{"c0"}, {"c1"}, {"c2"}, {"c3"}}
	groups := []string{"", "", "g1", "g2"}
	filters := []string{"a", "a/b", "a/+", "a/#", "#", "+/b", "+", "$s/#", "a//b", "+/+"}
	topics := []string{"a", "a/b", "b", "a/c", "$s", "$s/b", "a//b", "/b"}
	for trial := range 20 {
		trie := New[*client](4)
		model := make(map[subKey]Sub[*client])
		for step := range 400 {
			key := subKey{clients[rng.IntN(len(clients))], groups[rng.IntN(len(groups))],
				filters[rng.IntN(len(filters))]}
			filter := key.plain
			if key.group != "" {
				filter = "$share/" + key.group + "/" + filter
			}
			switch op := rng.IntN(3); {
			case op == 0:
				sub := Sub[*client]{Subscriber: key.subscriber, QoS: byte(rng.IntN(3)),
					NoLocal: rng.IntN(2) == 0, RetainAsPublished: rng.IntN(2) == 0,
					ID: uint32(rng.IntN(4))}
				_, existed := model[key]
				if replaced := trie.Subscribe([]byte(filter), sub); replaced != existed {
					t.Fatalf("trial %d step %d: Subscribe(%q) replaced=%v, want %v",
						trial, step, filter, replaced, existed)
				}
				model[key] = sub
			case op == 1:
				_, existed := model[key]
				if found := trie.Unsubscribe([]byte(filter), key.subscriber); found != existed {
					t.Fatalf("trial %d step %d: Unsubscribe(%q) found=%v, want %v",
						trial, step, filter, found, existed)
				}
				delete(model, key)
			default:
				topic := topics[rng.IntN(len(topics))]
				got, want := describe(trie.Match([]byte(topic))), describe(modelMatch(model, topic))
				if got != want {
					t.Fatalf("trial %d step %d: Match(%q)\n got %s\nwant %s", trial, step, topic, got, want)
				}
			}
			if trie.Count() != len(model) {
				t.Fatalf("Count = %d, want %d", trie.Count(), len(model))
			}
		}
		for key := range model {
			filter := key.plain
			if key.group != "" {
				filter = "$share/" + key.group + "/" + filter
			}
			trie.Unsubscribe([]byte(filter), key.subscriber)
		}
		if !trie.root.isEmpty() || trie.Count() != 0 {
			t.Fatalf("trial %d: trie not empty after unsubscribing everything", trial)
		}
	}
}

// modelMatch computes the result for topic from the model, plainly.
func modelMatch(model map[subKey]Sub[*client], topic string) *Result[*client] {
	r := &Result[*client]{}
	bySubscriber := map[*client]*Delivery[*client]{}
	byGroup := map[[2]string]*SharedGroup[*client]{}
	for key, sub := range model {
		if !refMatch(key.plain, topic) {
			continue
		}
		var ids []uint32
		if sub.ID != 0 {
			ids = []uint32{sub.ID}
		}
		if key.group != "" {
			g := byGroup[[2]string{key.group, key.plain}]
			if g == nil {
				g = &SharedGroup[*client]{Name: key.group, Filter: key.plain}
				byGroup[[2]string{key.group, key.plain}] = g
				r.Shared = append(r.Shared, g)
			}
			g.Members = append(g.Members, Delivery[*client]{Subscriber: sub.Subscriber,
				QoS: sub.QoS, NoLocal: sub.NoLocal, RetainAsPublished: sub.RetainAsPublished, IDs: ids})
			continue
		}
		d := bySubscriber[sub.Subscriber]
		if d == nil {
			d = &Delivery[*client]{Subscriber: sub.Subscriber, NoLocal: true}
			bySubscriber[sub.Subscriber] = d
		}
		d.QoS = max(d.QoS, sub.QoS)
		d.NoLocal = d.NoLocal && sub.NoLocal
		d.RetainAsPublished = d.RetainAsPublished || sub.RetainAsPublished
		if sub.ID != 0 && !slices.Contains(d.IDs, sub.ID) {
			d.IDs = append(d.IDs, sub.ID)
			slices.Sort(d.IDs)
		}
	}
	for _, d := range bySubscriber {
		r.Subs = append(r.Subs, *d)
	}
	return r
}

// describe renders a result canonically (sorted), for comparison.
func describe(r *Result[*client]) string {
	var subs []string
	for _, d := range r.Subs {
		subs = append(subs, fmt.Sprintf("%s q%d nl=%v rap=%v ids=%v",
			d.Subscriber.name, d.QoS, d.NoLocal, d.RetainAsPublished, d.IDs))
	}
	slices.Sort(subs)
	groups := slices.Clone(r.Shared)
	slices.SortFunc(groups, func(a, b *SharedGroup[*client]) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Filter, b.Filter))
	})
	var shared []string
	for _, g := range groups {
		var members []string
		for _, m := range g.Members {
			members = append(members, fmt.Sprintf("%s q%d nl=%v rap=%v ids=%v",
				m.Subscriber.name, m.QoS, m.NoLocal, m.RetainAsPublished, m.IDs))
		}
		slices.Sort(members)
		shared = append(shared, fmt.Sprintf("%s/%s%v", g.Name, g.Filter, members))
	}
	return fmt.Sprintf("subs%v shared%v", subs, shared)
}

// TestTreeAgainstModel runs random Set and Delete calls against a map, then
// compares Get, Len and MatchFilter with the reference matcher.
func TestTreeAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 20 {
		tree := NewTree[int]()
		model := make(map[string]int)
		for step := range 300 {
			topic := randomTopic(rng)
			if rng.IntN(3) == 0 {
				_, existed := model[topic]
				if deleted := tree.Delete([]byte(topic)); deleted != existed {
					t.Fatalf("trial %d step %d: Delete(%q) = %v, want %v", trial, step, topic, deleted, existed)
				}
				delete(model, topic)
			} else {
				tree.Set([]byte(topic), step)
				model[topic] = step
			}
			want, wantOK := model[topic]
			if v, ok := tree.Get([]byte(topic)); v != want || ok != wantOK {
				t.Fatalf("Get(%q) = %d, %v; want %d, %v", topic, v, ok, want, wantOK)
			}
			if tree.Len() != len(model) {
				t.Fatalf("Len = %d, want %d", tree.Len(), len(model))
			}
		}
		for range 50 {
			filter := randomFilter(rng)
			var got, want []string
			tree.MatchFilter([]byte(filter), func(topic string, v int) bool {
				if model[topic] != v {
					t.Errorf("MatchFilter gave %q=%d, stored %d", topic, v, model[topic])
				}
				got = append(got, topic)
				return true
			})
			for topic := range model {
				if refMatch(filter, topic) {
					want = append(want, topic)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("trial %d: MatchFilter(%q) = %q, want %q", trial, filter, got, want)
			}
		}
		for topic := range model {
			tree.Delete([]byte(topic))
		}
		if tree.root.children != nil || tree.Len() != 0 {
			t.Fatalf("trial %d: tree not empty after deleting everything", trial)
		}
	}
}
