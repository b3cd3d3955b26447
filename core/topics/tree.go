package topics

import "sync"

// Tree maps topic names to values, and finds the values whose names a topic
// filter matches: the broker keeps retained messages in it.
//
// It is safe for concurrent use: Set and Delete take a write lock, Get,
// MatchFilter and Len a read lock. Create a Tree with NewTree.
type Tree[V any] struct {
	mu    sync.RWMutex
	root  treeNode[V]
	count int
}

// treeNode is one level of a topic name.
type treeNode[V any] struct {
	children map[string]*treeNode[V] // nil when none
	topic    string                  // the whole topic name; set while hasValue
	value    V
	hasValue bool
}

// NewTree returns an empty Tree.
func NewTree[V any]() *Tree[V] { return &Tree[V]{} }

// Set stores v under the topic name, replacing any value stored there. The
// topic must be a valid topic name (see the package documentation); Set
// copies it.
func (t *Tree[V]) Set(topic []byte, v V) {
	var levelArray [maxStackLevels][]byte
	levels := appendLevels(levelArray[:0], topic)

	t.mu.Lock()
	defer t.mu.Unlock()
	n := &t.root
	for _, level := range levels {
		n = n.childOrNew(level)
	}
	if !n.hasValue {
		n.topic, n.hasValue = string(topic), true
		t.count++
	}
	n.value = v
}

// Get returns the value stored under the topic name.
func (t *Tree[V]) Get(topic []byte) (V, bool) {
	var levelArray [maxStackLevels][]byte
	levels := appendLevels(levelArray[:0], topic)

	t.mu.RLock()
	defer t.mu.RUnlock()
	n := &t.root
	for _, level := range levels {
		if n = n.child(level); n == nil {
			var zero V
			return zero, false
		}
	}
	return n.value, n.hasValue
}

// Delete removes the value stored under the topic name and reports whether
// there was one. Levels left without values or children are freed.
func (t *Tree[V]) Delete(topic []byte) bool {
	var levelArray [maxStackLevels][]byte
	levels := appendLevels(levelArray[:0], topic)
	var pathArray [maxStackLevels + 1]*treeNode[V]

	t.mu.Lock()
	defer t.mu.Unlock()
	path := descend(pathArray[:0], &t.root, levels, (*treeNode[V]).child)
	if path == nil || !path[len(path)-1].hasValue {
		return false
	}
	n := path[len(path)-1]
	var zero V
	n.value, n.topic, n.hasValue = zero, "", false // drop references for the GC
	t.count--
	prune(path, levels, (*treeNode[V]).isEmpty, (*treeNode[V]).dropChild)
	return true
}

// Len returns the number of values stored.
func (t *Tree[V]) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.count
}

// MatchFilter calls fn with every stored topic name that filter matches, and
// its value, in no particular order, until fn returns false. The wildcard and
// '$' rules are those of Trie.Match; filter must be valid and must not carry a
// "$share/{group}/" prefix (strip it first).
//
// MatchFilter holds the read lock while it calls fn: fn must not call a
// method of the Tree that changes it (that would deadlock), and a slow fn
// delays writers. The topic string passed to fn stays valid after fn returns.
func (t *Tree[V]) MatchFilter(filter []byte, fn func(topic string, v V) bool) {
	var levelArray [maxStackLevels][]byte
	levels := appendLevels(levelArray[:0], filter)

	t.mu.RLock()
	defer t.mu.RUnlock()
	t.root.matchFilter(levels, true, fn)
}

// matchFilter calls fn for the values below n matched by the remaining
// filter levels. atRoot is true for the first level, where wildcards do not
// match names starting with '$' [MQTT-4.7.2-1]. It returns false once fn has.
func (n *treeNode[V]) matchFilter(levels [][]byte, atRoot bool, fn func(string, V) bool) bool {
	if len(levels) == 0 {
		return !n.hasValue || fn(n.topic, n.value)
	}
	level := levels[0]
	if len(level) != 1 || (level[0] != '+' && level[0] != '#') {
		c := n.children[string(level)]
		return c == nil || c.matchFilter(levels[1:], false, fn)
	}
	if level[0] == '#' {
		if len(levels) > 1 {
			return true // '#' not last: an invalid filter that matches nothing
		}
		// '#' matches the parent level too: "a/#" matches "a". The root has
		// no value: a topic name has at least one level.
		if n.hasValue && !fn(n.topic, n.value) {
			return false
		}
	}
	for name, c := range n.children {
		if atRoot && len(name) > 0 && name[0] == '$' {
			continue
		}
		var more bool
		if level[0] == '#' {
			more = c.visitAll(fn)
		} else {
			more = c.matchFilter(levels[1:], false, fn)
		}
		if !more {
			return false
		}
	}
	return true
}

// visitAll calls fn for n's value and every value below n; it returns false
// once fn has.
func (n *treeNode[V]) visitAll(fn func(string, V) bool) bool {
	if n.hasValue && !fn(n.topic, n.value) {
		return false
	}
	for _, c := range n.children {
		if !c.visitAll(fn) {
			return false
		}
	}
	return true
}

// child returns the child of n for a level, or nil.
func (n *treeNode[V]) child(level []byte) *treeNode[V] { return n.children[string(level)] }

// childOrNew returns the child of n for a level, creating it if needed.
func (n *treeNode[V]) childOrNew(level []byte) *treeNode[V] { return childIn(&n.children, level) }

// isEmpty reports whether n holds no value and has no child.
func (n *treeNode[V]) isEmpty() bool { return !n.hasValue && len(n.children) == 0 }

// dropChild removes the child of n for a level.
func (n *treeNode[V]) dropChild(level []byte) { deleteChild(&n.children, level) }
