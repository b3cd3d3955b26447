package topics

// Splitting names and filters into levels, and walking and pruning the paths
// of the Trie and the Tree, which share these helpers.

import "bytes"

// maxStackLevels is the number of levels the matching and editing paths keep
// in arrays on the stack; deeper topics fall back to a heap slice.
const maxStackLevels = 32

// levelSeparator separates the levels of topic names and filters.
const levelSeparator = '/'

// sharePrefix starts a shared subscription filter: "$share/{group}/{filter}".
var sharePrefix = []byte("$share/")

// appendLevels appends the levels of a topic name or filter to dst and
// returns the extended slice. The levels alias s. An empty s has one empty
// level, as does every position between two adjacent separators.
func appendLevels(dst [][]byte, s []byte) [][]byte {
	for {
		i := bytes.IndexByte(s, levelSeparator)
		if i < 0 {
			return append(dst, s)
		}
		dst = append(dst, s[:i])
		s = s[i+1:]
	}
}

// splitShared splits a shared subscription filter "$share/{group}/{filter}"
// into its group and filter. For any other filter it returns a nil group and
// the filter unchanged. Both results alias filter. A "$share/" filter with no
// second separator is invalid (the caller validates); it is kept whole, as an
// ordinary filter.
func splitShared(filter []byte) (group, plain []byte) {
	if !bytes.HasPrefix(filter, sharePrefix) {
		return nil, filter
	}
	rest := filter[len(sharePrefix):]
	i := bytes.IndexByte(rest, levelSeparator)
	if i < 0 {
		return nil, filter
	}
	return rest[:i], rest[i+1:]
}

// isWildcardLevel reports whether a filter level is '+' or '#'.
func isWildcardLevel(level []byte) bool {
	return len(level) == 1 && (level[0] == '+' || level[0] == '#')
}

// hasWildcard reports whether any level of the split filter is a wildcard.
func hasWildcard(levels [][]byte) bool {
	for _, l := range levels {
		if isWildcardLevel(l) {
			return true
		}
	}
	return false
}

// isDollarTopic reports whether a topic name starts with '$', which hides it
// from filters that start with a wildcard [MQTT-4.7.2-1].
func isDollarTopic(topic []byte) bool {
	return len(topic) > 0 && topic[0] == '$'
}

// descend follows levels down from root, with child giving the next node,
// and appends every node met to path: root first, so path[i] is the node
// reached by levels[:i]. It returns nil if a level has no node.
func descend[N any](path []*N, root *N, levels [][]byte, child func(*N, []byte) *N) []*N {
	path = append(path, root)
	for _, level := range levels {
		n := child(path[len(path)-1], level)
		if n == nil {
			return nil
		}
		path = append(path, n)
	}
	return path
}

// prune frees the empty nodes at the end of a path built by descend: from the
// deepest node up, while a node is empty, drop detaches it from its parent.
// The root is never dropped.
func prune[N any](path []*N, levels [][]byte, empty func(*N) bool, drop func(parent *N, level []byte)) {
	for i := len(path) - 1; i > 0 && empty(path[i]); i-- {
		drop(path[i-1], levels[i-1])
	}
}

// childIn returns the node stored under level in *children, first creating
// it (and the map) if needed. The key is a copy of level.
func childIn[N any](children *map[string]*N, level []byte) *N {
	c := (*children)[string(level)]
	if c == nil {
		c = new(N)
		if *children == nil {
			*children = make(map[string]*N)
		}
		(*children)[string(level)] = c
	}
	return c
}

// deleteChild removes the node stored under level in *children, and frees
// the map when it becomes empty.
func deleteChild[N any](children *map[string]*N, level []byte) {
	delete(*children, string(level))
	if len(*children) == 0 {
		*children = nil
	}
}
