package topics

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

func sub(c *client, qos byte, noLocal, rap bool, id uint32) Sub[*client] {
	return Sub[*client]{Subscriber: c, QoS: qos, NoLocal: noLocal, RetainAsPublished: rap, ID: id}
}

func TestOverlappingSubscriptionsMerge(t *testing.T) {
	trie := New[*client](0)
	a, b := &client{"a"}, &client{"b"}
	trie.Subscribe([]byte("s/+"), sub(a, 0, true, false, 5))
	trie.Subscribe([]byte("s/#"), sub(a, 2, false, false, 3))
	trie.Subscribe([]byte("s/x"), sub(a, 1, true, true, 5)) // identifier 5 twice: sent once
	trie.Subscribe([]byte("#"), sub(a, 0, true, false, 0))
	trie.Subscribe([]byte("s/x"), sub(b, 1, true, false, 0))
	trie.Subscribe([]byte("+/x"), sub(b, 0, true, false, 9))

	r := trie.Match([]byte("s/x"))
	if len(r.Subs) != 2 || len(r.Shared) != 0 {
		t.Fatalf("Match = %s, want one delivery per subscriber", describe(r))
	}
	want := map[*client]string{
		// QoS is the maximum [MQTT-3.3.4-2]; every identifier is sent [MQTT-3.3.4-3];
		// one subscription without No Local is enough to get one's own messages.
		a: "a q2 nl=false rap=true ids=[3 5]",
		b: "b q1 nl=true rap=false ids=[9]",
	}
	for _, d := range r.Subs {
		if got := fmt.Sprintf("%s q%d nl=%v rap=%v ids=%v", d.Subscriber, d.QoS, d.NoLocal,
			d.RetainAsPublished, d.IDs); got != want[d.Subscriber] {
			t.Errorf("delivery %s, want %s", got, want[d.Subscriber])
		}
	}

	r = trie.Match([]byte("s/y")) // a alone, through s/+, s/# and #
	if len(r.Subs) != 1 || r.Subs[0].QoS != 2 || !slices.Equal(r.Subs[0].IDs, []uint32{3, 5}) {
		t.Fatalf("Match(s/y) = %s", describe(r))
	}
	r = trie.Match([]byte("q"))
	if len(r.Subs) != 1 || r.Subs[0].IDs != nil || !r.Subs[0].NoLocal {
		t.Fatalf("Match(q) = %s, want a with no identifier, No Local", describe(r))
	}
}

func TestSubscribeReplacesOptions(t *testing.T) {
	trie := New[*client](0)
	c := &client{"c"}
	for _, filter := range []string{"a/+", "$share/g/a/+"} {
		if trie.Subscribe([]byte(filter), sub(c, 0, false, false, 1)) {
			t.Fatalf("first Subscribe(%q) reported replaced", filter)
		}
		trie.Match([]byte("a/b")) // cache it, so the replacement must invalidate
		if !trie.Subscribe([]byte(filter), sub(c, 2, false, true, 7)) {
			t.Fatalf("second Subscribe(%q) did not report replaced [MQTT-3.8.4-3]", filter)
		}
	}
	if trie.Count() != 2 {
		t.Fatalf("Count = %d, want 2", trie.Count())
	}
	r := trie.Match([]byte("a/b"))
	if got := describe(r); got != "subs[c q2 nl=false rap=true ids=[7]] shared[g/a/+[c q2 nl=false rap=true ids=[7]]]" {
		t.Fatalf("Match after replace = %s", got)
	}
}

func TestSharedGroups(t *testing.T) {
	trie := New[*client](0)
	m := []*client{{"m0"}, {"m1"}, {"m2"}}
	for _, c := range m {
		trie.Subscribe([]byte("$share/g1/s/+"), sub(c, 1, false, false, 0))
	}
	other := &client{"other"}
	trie.Subscribe([]byte("$share/g2/s/+"), sub(other, 0, false, false, 4))
	trie.Subscribe([]byte("$share/g1/s/#"), sub(other, 0, false, false, 0)) // same name, other filter
	trie.Subscribe([]byte("s/+"), sub(m[0], 0, false, false, 0))            // shared and not

	r := trie.Match([]byte("s/x"))
	if got, want := describe(r), "subs[m0 q0 nl=false rap=false ids=[]] shared["+
		"g1/s/#[other q0 nl=false rap=false ids=[]] "+
		"g1/s/+[m0 q1 nl=false rap=false ids=[] m1 q1 nl=false rap=false ids=[] m2 q1 nl=false rap=false ids=[]] "+
		"g2/s/+[other q0 nl=false rap=false ids=[4]]]"; got != want {
		t.Fatalf("Match =\n%s\nwant\n%s", got, want)
	}
	if trie.Match([]byte("$s/x")).Empty() != true {
		t.Fatalf("a shared wildcard filter matched a $ topic [MQTT-4.7.2-1]")
	}
	var g1 *SharedGroup[*client]
	for _, g := range r.Shared {
		if g.Name == "g1" && g.Filter == "s/+" {
			g1 = g
		}
	}

	picks := func(g *SharedGroup[*client], n int, available func(*client) bool) []string {
		var names []string
		for range n {
			d, ok := g.Pick(available)
			if !ok {
				names = append(names, "-")
				continue
			}
			names = append(names, d.Subscriber.name)
		}
		return names
	}
	if got := picks(g1, 6, nil); !slices.Equal(got, []string{"m0", "m1", "m2", "m0", "m1", "m2"}) {
		t.Fatalf("round-robin picks %v", got)
	}
	notM1 := func(c *client) bool { return c != m[1] }
	if got := picks(g1, 4, notM1); !slices.Equal(got, []string{"m0", "m2", "m0", "m2"}) {
		t.Fatalf("picks skipping m1: %v", got)
	}
	// Nobody preferred: the rotation still hands every member its turn.
	if got := picks(g1, 3, func(*client) bool { return false }); slices.Contains(got, "-") ||
		got[0] == got[1] || got[1] == got[2] || got[0] == got[2] {
		t.Fatalf("picks with nobody preferred: %v, want each member once", got)
	}

	// The rotation continues across snapshots of the same group.
	g1.Pick(nil) // cursor now points at the next member, whoever that is
	next, _ := g1.Pick(nil)
	trie.Subscribe([]byte("unrelated/#"), sub(other, 0, false, false, 0)) // invalidates every entry
	r2 := trie.Match([]byte("s/x"))
	if r2 == r {
		t.Fatalf("cache was not invalidated by a wildcard subscription")
	}
	for _, g := range r2.Shared {
		if g.Name == "g1" && g.Filter == "s/+" {
			d, _ := g.Pick(nil)
			if want := m[(slices.Index(m, next.Subscriber)+1)%len(m)]; d.Subscriber != want {
				t.Fatalf("new snapshot picked %s after %s, want %s", d.Subscriber, next.Subscriber, want)
			}
		}
	}

	// Unsubscribing needs the right group.
	if trie.Unsubscribe([]byte("$share/g2/s/+"), m[0]) || trie.Unsubscribe([]byte("s/#"), other) {
		t.Fatalf("Unsubscribe found a subscription in the wrong group")
	}
	for _, c := range m {
		if !trie.Unsubscribe([]byte("$share/g1/s/+"), c) {
			t.Fatalf("Unsubscribe(%s) from g1 not found", c)
		}
	}
	if r := trie.Match([]byte("s/x")); len(r.Shared) != 2 || len(r.Subs) != 1 {
		t.Fatalf("after emptying g1/s/+: %s", describe(r))
	}
	var empty SharedGroup[*client]
	if _, ok := empty.Pick(nil); ok {
		t.Fatalf("Pick on a group without members succeeded")
	}
}

func TestUnsubscribeInvalidatesCache(t *testing.T) {
	trie := New[*client](0)
	a, b := &client{"a"}, &client{"b"}
	trie.Subscribe([]byte("a/b"), sub(a, 0, false, false, 0))
	trie.Subscribe([]byte("a/+"), sub(b, 0, false, false, 0))
	before := trie.Match([]byte("a/b"))
	other := trie.Match([]byte("x/y"))
	if len(before.Subs) != 2 || !other.Empty() {
		t.Fatalf("Match = %s / %s", describe(before), describe(other))
	}

	if !trie.Unsubscribe([]byte("a/b"), a) {
		t.Fatalf("Unsubscribe(a/b) not found")
	}
	if trie.Unsubscribe([]byte("a/b"), a) || trie.Unsubscribe([]byte("no/such"), a) ||
		trie.Unsubscribe([]byte("a/+"), a) {
		t.Fatalf("Unsubscribe found a subscription that does not exist")
	}
	if r := trie.Match([]byte("a/b")); len(r.Subs) != 1 || r.Subs[0].Subscriber != b {
		t.Fatalf("Match after Unsubscribe(a/b) = %s", describe(r))
	}
	if len(before.Subs) != 2 {
		t.Fatalf("an earlier result changed: %s", describe(before))
	}
	// A filter without wildcards only drops its own topic's entry.
	if trie.Match([]byte("x/y")) != other {
		t.Fatalf("unsubscribing a/b dropped the cache entry of x/y")
	}
	trie.Unsubscribe([]byte("a/+"), b)
	if r := trie.Match([]byte("a/b")); !r.Empty() {
		t.Fatalf("Match after Unsubscribe(a/+) = %s", describe(r))
	}
	if !trie.root.isEmpty() {
		t.Fatalf("trie not pruned after the last Unsubscribe")
	}
}

func TestUnsubscribePrunes(t *testing.T) {
	trie := New[*client](0)
	c := &client{"c"}
	trie.Subscribe([]byte("a/b/c/d"), sub(c, 0, false, false, 0))
	trie.Subscribe([]byte("a/b"), sub(c, 0, false, false, 0))
	trie.Subscribe([]byte("a/+/#"), sub(c, 0, false, false, 0))
	trie.Subscribe([]byte("$share/g/a/x"), sub(c, 0, false, false, 0))

	trie.Unsubscribe([]byte("a/b/c/d"), c)
	if n := trie.root.literal["a"].literal["b"]; n == nil || n.literal != nil {
		t.Fatalf("a/b/c not pruned while a/b stays: %+v", n)
	}
	trie.Unsubscribe([]byte("a/+/#"), c)
	if trie.root.literal["a"].plus != nil {
		t.Fatalf("a/+ not pruned")
	}
	trie.Unsubscribe([]byte("$share/g/a/x"), c)
	if trie.root.literal["a"].literal["x"] != nil {
		t.Fatalf("a/x not pruned after its shared group emptied")
	}
	trie.Unsubscribe([]byte("a/b"), c)
	if !trie.root.isEmpty() || trie.Count() != 0 {
		t.Fatalf("root not empty at the end")
	}
}

func TestManySubscribersOnOneFilter(t *testing.T) {
	trie := New[*client](0)
	const n = 1000
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = &client{fmt.Sprint(i)}
		trie.Subscribe([]byte("hot"), sub(clients[i], 1, false, false, uint32(i+1)))
		trie.Subscribe([]byte("$share/g/hot"), sub(clients[i], 0, false, false, 0))
	}
	node := trie.root.literal["hot"]
	if node.subs.index == nil || node.groupList()[0].members.index == nil {
		t.Fatalf("no index over %d subscribers", n)
	}
	if trie.Subscribe([]byte("hot"), sub(clients[500], 2, false, false, 1)) != true {
		t.Fatalf("re-Subscribe through the index not reported as a replacement")
	}
	remaining := map[*client]bool{}
	for _, c := range clients {
		remaining[c] = true
	}
	rng := rand.New(rand.NewPCG(7, 8))
	order := rng.Perm(n)
	for k, i := range order {
		if !trie.Unsubscribe([]byte("hot"), clients[i]) {
			t.Fatalf("Unsubscribe(%d) not found", i)
		}
		delete(remaining, clients[i])
		if k%97 == 0 || len(remaining) < 40 {
			r := trie.Match([]byte("hot"))
			if len(r.Subs) != len(remaining) {
				t.Fatalf("Match has %d subscribers, want %d", len(r.Subs), len(remaining))
			}
			for _, d := range r.Subs {
				if !remaining[d.Subscriber] {
					t.Fatalf("Match returned unsubscribed %s", d.Subscriber)
				}
				if d.Subscriber.name != fmt.Sprint(d.IDs[0]-1) && d.Subscriber != clients[500] {
					t.Fatalf("subscriber %s carries identifier %v", d.Subscriber, d.IDs)
				}
			}
		}
	}
	if node.subs.index != nil || node.subs.list != nil {
		t.Fatalf("index or list kept after the last Unsubscribe")
	}
	if trie.Count() != n {
		t.Fatalf("Count = %d, want %d (the shared members)", trie.Count(), n)
	}
}

func TestCacheEvictionBound(t *testing.T) {
	const size = 8
	trie := New[*client](size)
	c := &client{"c"}
	trie.Subscribe([]byte("t/+"), sub(c, 0, false, false, 0))
	for i := range 100 {
		topic := []byte(fmt.Sprintf("t/%d", i))
		if r := trie.Match(topic); len(r.Subs) != 1 {
			t.Fatalf("Match(%s) = %s", topic, describe(r))
		}
		if len(trie.cache) > size {
			t.Fatalf("cache holds %d entries, bound %d", len(trie.cache), size)
		}
		if i%10 == 0 { // stale entries must not pile up either
			trie.Subscribe([]byte("u/+"), sub(c, 0, false, false, 0))
		}
	}
	if r := trie.Match([]byte("t/99")); r != trie.Match([]byte("t/99")) {
		t.Fatalf("the most recent topic is not served from the cache")
	}

	disabled := New[*client](-1)
	disabled.Subscribe([]byte("t/+"), sub(c, 0, false, false, 0))
	if r := disabled.Match([]byte("t/1")); len(r.Subs) != 1 || disabled.cache != nil {
		t.Fatalf("a Trie without cache: Match = %s, cache %v", describe(r), disabled.cache)
	}
}

func TestMatchCachedDoesNotAllocate(t *testing.T) {
	trie := New[*client](0)
	for i := range 100 {
		c := &client{fmt.Sprint(i)}
		trie.Subscribe([]byte("room/+/temp"), sub(c, 1, false, false, uint32(i)))
		trie.Subscribe([]byte("$share/g/room/#"), sub(c, 1, false, false, 0))
	}
	topic := []byte("room/7/temp")
	r := trie.Match(topic)
	if allocs := testing.AllocsPerRun(1000, func() { trie.Match(topic) }); allocs != 0 {
		t.Fatalf("cached Match allocates %.1f times", allocs)
	}
	g := r.Shared[0]
	available := func(c *client) bool { return c.name != "3" }
	if allocs := testing.AllocsPerRun(1000, func() { g.Pick(available) }); allocs != 0 {
		t.Fatalf("Pick allocates %.1f times", allocs)
	}
	// Without a cache every Match walks the trie: a walk that finds nothing
	// shows that the level and node arrays stay on the stack.
	uncached := New[*client](-1)
	uncached.Subscribe([]byte("room/+/humidity"), sub(g.Members[0].Subscriber, 0, false, false, 0))
	if allocs := testing.AllocsPerRun(1000, func() { uncached.Match(topic) }); allocs != 0 {
		t.Fatalf("a Match walk that finds nothing allocates %.1f times", allocs)
	}
}

func TestDeepTopics(t *testing.T) {
	trie := New[*client](0)
	c := &client{"c"}
	deep := []byte("a" + strings.Repeat("/x", 2*maxStackLevels) + "/end") // beyond the stack arrays
	trie.Subscribe(deep, sub(c, 0, false, false, 0))
	trie.Subscribe([]byte("a/+/x/#"), sub(c, 0, false, false, 0))
	if r := trie.Match(deep); len(r.Subs) != 1 {
		t.Fatalf("deep topic: %s", describe(r))
	}
	if !trie.Unsubscribe(deep, c) || !trie.Unsubscribe([]byte("a/+/x/#"), c) || !trie.root.isEmpty() {
		t.Fatalf("deep filter not removed and pruned")
	}
}

// TestConcurrentChurn subscribes, unsubscribes and matches from many
// goroutines; run it with -race. Each worker checks that it sees its own
// subscription exactly while it holds it.
func TestConcurrentChurn(t *testing.T) {
	trie := New[*client](16)
	const workers, rounds = 8, 300
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			me := &client{fmt.Sprint(w)}
			own := []byte(fmt.Sprintf("w/%d/t", w))
			wild := []byte(fmt.Sprintf("$share/g/w/+/%d", w))
			has := func(r *Result[*client]) bool {
				return slices.ContainsFunc(r.Subs, func(d Delivery[*client]) bool { return d.Subscriber == me })
			}
			for i := range rounds {
				trie.Subscribe(own, sub(me, 1, false, false, 0))
				trie.Subscribe(wild, sub(me, 0, false, false, 0))
				if !has(trie.Match(own)) {
					errs <- fmt.Errorf("worker %d round %d: own subscription not matched", w, i)
					return
				}
				trie.Match([]byte(fmt.Sprintf("w/%d/%d", (w+1)%workers, w)))
				trie.Unsubscribe(own, me)
				if has(trie.Match(own)) {
					errs <- fmt.Errorf("worker %d round %d: matched after Unsubscribe", w, i)
					return
				}
				trie.Unsubscribe(wild, me)
			}
		}()
	}
	wg.Add(1)
	go func() { // a reader hammering the cache while it is invalidated
		defer wg.Done()
		for i := range workers * rounds {
			if r := trie.Match([]byte(fmt.Sprintf("w/%d/t", i%workers))); len(r.Subs) > 1 {
				errs <- fmt.Errorf("topic of one worker matched %d subscribers", len(r.Subs))
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if trie.Count() != 0 || !trie.root.isEmpty() {
		t.Fatalf("after churn: Count %d, root empty %v", trie.Count(), trie.root.isEmpty())
	}
}

// TestMissDoesNotCacheStaleResult races cache misses against changes: a
// result built before a change must not be stored after it. The race is
// probabilistic, so the test repeats it; it cannot fail on correct code.
func TestMissDoesNotCacheStaleResult(t *testing.T) {
	trie := New[*client](0)
	c := &client{"c"}
	topic := []byte("flip")
	for round := range 3000 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 4 {
				trie.Match(topic)
			}
		}()
		trie.Subscribe(topic, sub(c, 0, false, false, 0))
		trie.Unsubscribe(topic, c)
		<-done
		if r := trie.Match(topic); !r.Empty() {
			t.Fatalf("round %d: a result from before Unsubscribe was cached: %s", round, describe(r))
		}
	}
}
