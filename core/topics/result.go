package topics

import (
	"slices"
	"sync/atomic"
)

// Result is what Trie.Match returns: the receivers of a message published to
// one topic name. A Result is shared by every caller matching the same topic
// and must not be modified, nor any slice in it. It never changes after it is
// returned, so it can be used for as long as the caller likes.
type Result[S comparable] struct {
	// Subs has one entry per distinct subscriber among the matching ordinary
	// (non-shared) subscriptions, in no particular but stable order.
	Subs []Delivery[S]
	// Shared has one entry per shared subscription (group name and filter)
	// that matches. Deliver to one member of each, chosen with Pick.
	Shared []*SharedGroup[S]
}

// Empty reports whether the result holds no receiver at all.
func (r *Result[S]) Empty() bool { return len(r.Subs) == 0 && len(r.Shared) == 0 }

// Delivery is one copy of a message to send to one subscriber, with the
// options merged from all of its subscriptions that match the topic, because
// a subscriber with overlapping subscriptions receives one copy [MQTT-3.3.4-2].
type Delivery[S comparable] struct {
	Subscriber S
	// QoS is the maximum granted QoS over the matching subscriptions
	// [MQTT-3.3.4-2]; deliver at min(QoS, the message's QoS).
	QoS byte
	// NoLocal is true only if every matching subscription has No Local: one
	// subscription without it is enough to receive one's own messages.
	NoLocal bool
	// RetainAsPublished is true if any matching subscription has it.
	RetainAsPublished bool
	// IDs holds the distinct non-zero subscription identifiers of the matching
	// subscriptions, ascending, to send in the PUBLISH [MQTT-3.3.4-3]; nil if
	// none. It is read-only, like the rest of the Result.
	IDs []uint32
}

// SharedGroup is one shared subscription ("$share/{Name}/{Filter}") in a
// Result: a message goes to one of its Members (MQTT 5, section 4.8.2). Like the
// Result, it is read-only; Pick is safe for concurrent use.
type SharedGroup[S comparable] struct {
	Name   string // the share name
	Filter string // the topic filter, without the "$share/{Name}/" prefix
	// Members has one entry per member subscription (a subscriber is a member
	// of a group at most once per filter). IDs hold at most one identifier.
	Members []Delivery[S]
	// cursor is the round-robin position, shared with every snapshot of the
	// same group in the Trie, so rotation continues across subscribe changes.
	cursor *atomic.Uint64
}

// Pick chooses the member to receive the next message: round-robin over the
// members for which prefer returns true (a nil prefer accepts every member);
// when prefer refuses them all, the member whose turn it is, so that the
// message still goes to the group (for instance into an absent member's
// session queue). The rotation advances once per call whatever the outcome.
// ok is false only for a group without members. Pick never blocks and is
// safe for concurrent use; concurrent callers may occasionally pick the same
// member, which only makes the rotation approximate.
func (g *SharedGroup[S]) Pick(prefer func(S) bool) (d Delivery[S], ok bool) {
	n := uint64(len(g.Members))
	if n == 0 {
		return Delivery[S]{}, false
	}
	start := g.cursor.Add(1) - 1
	for skipped := uint64(0); skipped < n; skipped++ {
		d := g.Members[(start+skipped)%n]
		if prefer == nil || prefer(d.Subscriber) {
			if skipped > 0 {
				// Resume after the member picked, not after the first one
				// tried, so the skipped members' turn does not fall to it again.
				g.cursor.Add(skipped)
			}
			return d, true
		}
	}
	return g.Members[start%n], true
}

// shareGroup is a shared subscription held in the trie.
type shareGroup[S comparable] struct {
	name    string
	filter  string
	members subscriberSet[S]
	cursor  atomic.Uint64 // see SharedGroup.cursor
}

// idRef is a subscription identifier and the Delivery it belongs to, gathered
// while a Result is built.
type idRef struct {
	delivery int32
	id       uint32
}

// deliveryOf returns a Delivery with sub's options and no identifiers.
func deliveryOf[S comparable](sub *Sub[S]) Delivery[S] {
	return Delivery[S]{Subscriber: sub.Subscriber, QoS: sub.QoS, NoLocal: sub.NoLocal,
		RetainAsPublished: sub.RetainAsPublished}
}

// buildResult builds a new Result from the matched nodes (non-empty, each
// holding subscriptions). The caller holds the trie's read lock; the Result
// copies everything it needs, so it does not alias the trie.
func buildResult[S comparable](matched []*node[S]) *Result[S] {
	r := new(Result[S])
	nodesWithSubs, subs, groups, members := 0, 0, 0, 0
	for _, n := range matched {
		if k := n.subs.len(); k > 0 {
			nodesWithSubs++
			subs += k
		}
		groups += len(n.groupList())
		for _, g := range n.groupList() {
			members += g.members.len()
		}
	}
	if subs > 0 {
		r.Subs = buildDeliveries(matched, subs, nodesWithSubs > 1)
	}
	if groups > 0 {
		r.Shared = buildShared(matched, groups, members)
	}
	return r
}

// buildDeliveries merges the ordinary subscriptions of the matched nodes into
// one Delivery per subscriber. total is their number; merge is false when
// they come from a single node, which holds each subscriber once, so that the
// common case needs no map.
func buildDeliveries[S comparable](matched []*node[S], total int, merge bool) []Delivery[S] {
	out := make([]Delivery[S], 0, total)
	var refArray [8]idRef // enough for most results without a heap slice
	refs := refArray[:0]
	var position map[S]int // subscriber -> index in out; only when merging
	if merge {
		position = make(map[S]int, total)
	}
	for _, n := range matched {
		for k := range n.subs.list {
			sub := &n.subs.list[k]
			i, seen := len(out), false
			if merge {
				if i, seen = position[sub.Subscriber]; !seen {
					i = len(out)
					position[sub.Subscriber] = i
				}
			}
			if seen {
				d := &out[i]
				d.QoS = max(d.QoS, sub.QoS)
				d.NoLocal = d.NoLocal && sub.NoLocal
				d.RetainAsPublished = d.RetainAsPublished || sub.RetainAsPublished
			} else {
				out = append(out, deliveryOf(sub))
			}
			if sub.ID != 0 {
				if len(refs) == cap(refs) && cap(refs) < total {
					refs = append(make([]idRef, 0, total), refs...) // grow once, to the bound
				}
				refs = append(refs, idRef{delivery: int32(i), id: sub.ID})
			}
		}
	}
	attachIDs(out, refs)
	return out
}

// attachIDs sets the IDs of the deliveries from refs (in the order the
// subscriptions were met): ascending, without duplicates, all carved from one
// array.
func attachIDs[S comparable](out []Delivery[S], refs []idRef) {
	if len(refs) == 0 {
		return
	}
	ids := make([]uint32, len(refs))
	if oneEach(refs) { // the common case: no subscriber has two identifiers
		for k, r := range refs {
			ids[k] = r.id
			out[r.delivery].IDs = ids[k : k+1 : k+1]
		}
		return
	}
	// Give each delivery a segment of ids as long as its count of refs, and
	// append into it: the appends stay within the segment's capacity.
	counts := make([]int32, len(out))
	for _, r := range refs {
		counts[r.delivery]++
	}
	start := 0
	for d, n := range counts {
		if n > 0 {
			out[d].IDs = ids[start : start : start+int(n)]
			start += int(n)
		}
	}
	for _, r := range refs {
		d := &out[r.delivery]
		d.IDs = append(d.IDs, r.id)
	}
	for d := range out {
		if list := out[d].IDs; len(list) > 1 {
			slices.Sort(list)
			list = slices.Compact(list)
			out[d].IDs = list[:len(list):len(list)] // capped: an append copies
		}
	}
}

// oneEach reports whether refs name each delivery at most once, in
// ascending order.
func oneEach(refs []idRef) bool {
	for k := 1; k < len(refs); k++ {
		if refs[k].delivery <= refs[k-1].delivery {
			return false
		}
	}
	return true
}

// buildShared snapshots the shared groups of the matched nodes: groups is
// their number, members the number of their members.
func buildShared[S comparable](matched []*node[S], groups, members int) []*SharedGroup[S] {
	out := make([]*SharedGroup[S], 0, groups)
	snapshots := make([]SharedGroup[S], groups)
	deliveries := make([]Delivery[S], 0, members)
	ids := make([]uint32, 0, members) // never outgrown: slices carved from it stay put
	for _, n := range matched {
		for _, g := range n.groupList() {
			from := len(deliveries)
			for k := range g.members.list {
				sub := &g.members.list[k]
				d := deliveryOf(sub)
				if sub.ID != 0 {
					ids = append(ids, sub.ID)
					d.IDs = ids[len(ids)-1 : len(ids) : len(ids)]
				}
				deliveries = append(deliveries, d)
			}
			snap := &snapshots[len(out)]
			*snap = SharedGroup[S]{Name: g.name, Filter: g.filter,
				Members: deliveries[from:len(deliveries):len(deliveries)], cursor: &g.cursor}
			out = append(out, snap)
		}
	}
	return out
}
