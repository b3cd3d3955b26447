package topics

import "sync"

// DefaultCacheSize is the number of topics whose match results a Trie caches
// when New is given 0.
const DefaultCacheSize = 1024

// Sub is one subscription of one subscriber to one filter, with the options
// granted in SUBACK.
type Sub[S comparable] struct {
	// Subscriber identifies the receiver; in the broker, a pointer to its
	// session. It is only compared and used as a map key.
	Subscriber S
	// QoS is the maximum QoS granted for this subscription.
	QoS byte
	// NoLocal asks that messages the subscriber publishes itself are not
	// sent back to it (MQTT 5).
	NoLocal bool
	// RetainAsPublished keeps the RETAIN flag of forwarded messages (MQTT 5).
	RetainAsPublished bool
	// ID is the MQTT 5 subscription identifier, 0 for none.
	ID uint32
}

// Trie maps topic filters to subscriptions and finds the subscriptions that
// match a topic name.
//
// It is safe for concurrent use. Match takes a read lock and, for a topic it
// has seen since the last relevant change, costs one map lookup and no
// allocation: results are cached per topic name. Subscribe and Unsubscribe take
// the write lock. Create a Trie with New; the zero value is not usable.
//
// Cache invalidation: a change to a filter without wildcards can only alter
// the result for the topic spelled like the filter, so it drops that one cache
// entry. A change to a wildcard filter bumps a generation number that makes
// every cached result stale at once, in O(1), so that subscribe churn stays
// cheap; stale entries are replaced as topics are matched again, or evicted.
type Trie[S comparable] struct {
	mu    sync.RWMutex
	root  node[S]
	count int // subscriptions held, shared ones included

	// gen is bumped by changes to wildcard filters: a cache entry is valid
	// only while its gen equals this one.
	gen uint64
	// version is bumped by every change: a cache miss that built its result
	// under an older version does not store it.
	version uint64

	cache    map[string]cacheEntry[S] // topic name -> result; nil if disabled
	cacheMax int
	empty    *Result[S] // the result of every topic that matches nothing
}

// cacheEntry is a cached match result and the generation it was built in.
type cacheEntry[S comparable] struct {
	result *Result[S]
	gen    uint64
}

// node is one level of a filter. Its subscriptions are those whose filter
// ends at this level.
type node[S comparable] struct {
	literal map[string]*node[S] // children by level text; nil when none
	plus    *node[S]            // the '+' child
	hash    *node[S]            // the '#' child
	subs    subscriberSet[S]    // ordinary subscriptions ending here
	groups  *[]*shareGroup[S]   // shared subscriptions ending here, one per group name; nil when none (most nodes)
}

// groupList returns the shared groups ending at n.
func (n *node[S]) groupList() []*shareGroup[S] {
	if n.groups == nil {
		return nil
	}
	return *n.groups
}

// New returns an empty Trie caching the match results of up to cacheSize
// topic names: 0 means DefaultCacheSize, a negative size disables the cache.
// When the cache is full, a miss evicts every stale entry and then random
// entries until at most half of cacheSize remain.
func New[S comparable](cacheSize int) *Trie[S] {
	if cacheSize == 0 {
		cacheSize = DefaultCacheSize
	}
	t := &Trie[S]{cacheMax: cacheSize, empty: &Result[S]{}}
	if cacheSize > 0 {
		t.cache = make(map[string]cacheEntry[S], cacheSize)
	}
	return t
}

// Subscribe adds sub for filter. A filter "$share/{group}/{f}" makes sub a
// member of the shared subscription of group on f.
//
// A subscriber holds at most one subscription per filter (and group): when it
// already has one, its options are replaced by sub's and replaced is true
// [MQTT-3.8.4-3]. The filter must be valid (see the package documentation); it
// is not retained.
func (t *Trie[S]) Subscribe(filter []byte, sub Sub[S]) (replaced bool) {
	group, plain := splitShared(filter)
	var levelArray [maxStackLevels][]byte
	levels := appendLevels(levelArray[:0], plain)

	t.mu.Lock()
	defer t.mu.Unlock()
	n := &t.root
	for _, level := range levels {
		n = n.childOrNew(level)
	}
	if group == nil {
		replaced = n.subs.put(sub)
	} else {
		g := n.group(group)
		if g == nil {
			g = &shareGroup[S]{name: string(group), filter: string(plain)}
			if n.groups == nil {
				n.groups = new([]*shareGroup[S])
			}
			*n.groups = append(*n.groups, g)
		}
		replaced = g.members.put(sub)
	}
	if !replaced {
		t.count++
	}
	t.invalidate(plain, levels)
	return replaced
}

// Unsubscribe removes the subscription of s to filter (a "$share/{group}/{f}"
// filter removes s from that group) and reports whether it existed. Levels of
// the trie left without subscriptions are freed.
func (t *Trie[S]) Unsubscribe(filter []byte, s S) (found bool) {
	group, plain := splitShared(filter)
	var levelArray [maxStackLevels][]byte
	levels := appendLevels(levelArray[:0], plain)
	var pathArray [maxStackLevels + 1]*node[S]

	t.mu.Lock()
	defer t.mu.Unlock()
	path := descend(pathArray[:0], &t.root, levels, (*node[S]).child)
	if path == nil {
		return false
	}
	n := path[len(path)-1]
	if group == nil {
		found = n.subs.remove(s)
	} else {
		found = n.removeFromGroup(group, s)
	}
	if !found {
		return false
	}
	t.count--
	prune(path, levels, (*node[S]).isEmpty, (*node[S]).dropChild)
	t.invalidate(plain, levels)
	return true
}

// Count returns the number of subscriptions held, shared ones included.
func (t *Trie[S]) Count() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.count
}

// Match returns the subscriptions matching the topic name.
//
// The result is shared and immutable: callers must not modify it or any slice
// in it. It is a snapshot: it stays valid, and unchanged, after later
// Subscribe and Unsubscribe calls. A topic that matches nothing yields an
// empty, non-nil result. The topic must be a valid topic name (see the package
// documentation); it is not retained.
func (t *Trie[S]) Match(topic []byte) *Result[S] {
	t.mu.RLock()
	if e, ok := t.cache[string(topic)]; ok && e.gen == t.gen {
		t.mu.RUnlock()
		return e.result
	}
	r := t.matchLocked(topic)
	version, gen := t.version, t.gen
	t.mu.RUnlock()

	if t.cache != nil {
		t.mu.Lock()
		if t.version == version { // nothing changed since r was built
			if _, stale := t.cache[string(topic)]; !stale && len(t.cache) >= t.cacheMax {
				t.evictLocked()
			}
			t.cache[string(topic)] = cacheEntry[S]{result: r, gen: gen}
		}
		t.mu.Unlock()
	}
	return r
}

// matchLocked walks the trie for topic and builds a new result. The caller
// holds at least the read lock.
func (t *Trie[S]) matchLocked(topic []byte) *Result[S] {
	var levelArray [maxStackLevels][]byte
	levels := appendLevels(levelArray[:0], topic)
	var nodeArray [16]*node[S]
	matched := t.root.collect(levels, isDollarTopic(topic), nodeArray[:0])
	if len(matched) == 0 {
		return t.empty
	}
	return buildResult(matched)
}

// invalidate records a change to the subscriptions of filter (split into
// levels) in the cache. The caller holds the write lock.
func (t *Trie[S]) invalidate(filter []byte, levels [][]byte) {
	t.version++
	if hasWildcard(levels) {
		t.gen++
		return
	}
	// A filter without wildcards matches exactly the topic spelled alike.
	delete(t.cache, string(filter))
}

// evictLocked makes room in a full cache: it deletes every stale entry, then
// entries in Go's randomised map order until at most half the capacity
// remain. The caller holds the write lock.
func (t *Trie[S]) evictLocked() {
	keep := t.cacheMax / 2
	for topic, e := range t.cache {
		if e.gen != t.gen || len(t.cache) > keep {
			delete(t.cache, topic)
		}
	}
}

// collect appends to out every node below n whose filter matches the
// remaining topic levels and that holds subscriptions. Each node is appended
// at most once, because a filter's path for a given topic is unique. dollar
// is true at the root of a topic starting with '$', which wildcards do not
// match [MQTT-4.7.2-1].
func (n *node[S]) collect(levels [][]byte, dollar bool, out []*node[S]) []*node[S] {
	for {
		if n.hash != nil && !dollar {
			// '#' matches the parent level too: "a/#" matches "a".
			out = n.hash.appendIfUsed(out)
		}
		if len(levels) == 0 {
			return n.appendIfUsed(out)
		}
		if n.plus != nil && !dollar {
			out = n.plus.collect(levels[1:], false, out)
		}
		if n = n.literal[string(levels[0])]; n == nil {
			return out
		}
		levels, dollar = levels[1:], false
	}
}

// appendIfUsed appends n to out if it holds any subscription.
func (n *node[S]) appendIfUsed(out []*node[S]) []*node[S] {
	if n.subs.len() > 0 || n.groups != nil {
		out = append(out, n)
	}
	return out
}

// wildcardSlot returns the field holding n's '+' or '#' child when level is
// that wildcard, or nil for a literal level.
func (n *node[S]) wildcardSlot(level []byte) **node[S] {
	if len(level) == 1 {
		switch level[0] {
		case '+':
			return &n.plus
		case '#':
			return &n.hash
		}
	}
	return nil
}

// child returns the child of n for a filter level, or nil.
func (n *node[S]) child(level []byte) *node[S] {
	if slot := n.wildcardSlot(level); slot != nil {
		return *slot
	}
	return n.literal[string(level)]
}

// childOrNew returns the child of n for a filter level, creating it if needed.
func (n *node[S]) childOrNew(level []byte) *node[S] {
	if slot := n.wildcardSlot(level); slot != nil {
		if *slot == nil {
			*slot = new(node[S])
		}
		return *slot
	}
	return childIn(&n.literal, level)
}

// dropChild removes the child of n for a filter level.
func (n *node[S]) dropChild(level []byte) {
	if slot := n.wildcardSlot(level); slot != nil {
		*slot = nil
		return
	}
	deleteChild(&n.literal, level)
}

// isEmpty reports whether n holds no subscription and has no child.
func (n *node[S]) isEmpty() bool {
	return n.subs.len() == 0 && n.groups == nil &&
		len(n.literal) == 0 && n.plus == nil && n.hash == nil
}

// group returns the shared group called name at n, or nil.
func (n *node[S]) group(name []byte) *shareGroup[S] {
	for _, g := range n.groupList() {
		if g.name == string(name) {
			return g
		}
	}
	return nil
}

// removeFromGroup removes s from the shared group called name at n, deleting
// the group when it becomes empty, and reports whether s was a member.
func (n *node[S]) removeFromGroup(name []byte, s S) bool {
	groups := n.groupList()
	for i, g := range groups {
		if g.name != string(name) {
			continue
		}
		if !g.members.remove(s) {
			return false
		}
		if g.members.len() == 0 {
			last := len(groups) - 1
			groups[i] = groups[last]
			groups[last] = nil
			*n.groups = groups[:last]
			if last == 0 {
				n.groups = nil
			}
		}
		return true
	}
	return false
}
