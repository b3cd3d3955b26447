package topics

// Thresholds of a subscriberSet's index. Below indexAbove entries a linear
// scan of the compact slice is faster than hashing; beyond it the index keeps
// Subscribe and Unsubscribe O(1) however many subscribers share one filter.
// The index is dropped again at indexBelow (hysteresis, so that a set hovering
// around the threshold does not rebuild it on every change).
const (
	indexAbove = 32
	indexBelow = indexAbove / 2
)

// subscriberSet holds the subscriptions to one filter (or one shared group on
// one filter), at most one per subscriber, in a compact slice. Order is
// insertion order, except that a removal moves the last entry into the hole.
// Not safe for concurrent use; the owning Trie's lock guards it.
type subscriberSet[S comparable] struct {
	list  []Sub[S]
	index map[S]int32 // subscriber -> position in list; nil while list is short
}

// find returns the position of s's subscription, or -1.
func (set *subscriberSet[S]) find(s S) int {
	if set.index != nil {
		if i, ok := set.index[s]; ok {
			return int(i)
		}
		return -1
	}
	for i := range set.list {
		if set.list[i].Subscriber == s {
			return i
		}
	}
	return -1
}

// put adds sub, or replaces the options of the subscriber's existing
// subscription and reports that it did.
func (set *subscriberSet[S]) put(sub Sub[S]) (replaced bool) {
	if i := set.find(sub.Subscriber); i >= 0 {
		set.list[i] = sub
		return true
	}
	set.list = append(set.list, sub)
	switch {
	case set.index != nil:
		set.index[sub.Subscriber] = int32(len(set.list) - 1)
	case len(set.list) > indexAbove:
		set.index = make(map[S]int32, len(set.list))
		for i := range set.list {
			set.index[set.list[i].Subscriber] = int32(i)
		}
	}
	return false
}

// remove deletes s's subscription and reports whether there was one.
func (set *subscriberSet[S]) remove(s S) bool {
	i := set.find(s)
	if i < 0 {
		return false
	}
	last := len(set.list) - 1
	if i != last {
		set.list[i] = set.list[last]
		if set.index != nil {
			set.index[set.list[i].Subscriber] = int32(i)
		}
	}
	set.list[last] = Sub[S]{} // drop the reference for the garbage collector
	set.list = set.list[:last]
	if set.index != nil {
		delete(set.index, s)
		if len(set.list) <= indexBelow {
			set.index = nil
		}
	}
	set.shrink()
	return true
}

// shrink gives memory back after mass unsubscription: a slice using less than
// a quarter of a large capacity is reallocated to fit.
func (set *subscriberSet[S]) shrink() {
	n := len(set.list)
	if n == 0 {
		set.list = nil
		return
	}
	if c := cap(set.list); c > 2*indexAbove && n < c/4 {
		set.list = append(make([]Sub[S], 0, 2*n), set.list...)
	}
}

// len returns the number of subscriptions in the set.
func (set *subscriberSet[S]) len() int { return len(set.list) }
