package topics

import (
	"fmt"
	"testing"
)

// matchCases is the shared table of wildcard and '$' rules, run against both
// the Trie and the Tree.
var matchCases = []struct {
	filter, topic string
	match         bool
}{
	// Literal filters.
	{"a", "a", true},
	{"a", "b", false},
	{"a/b", "a/b", true},
	{"a/b", "a", false},
	{"a", "a/b", false},
	{"A", "a", false}, // case-sensitive
	{"a b", "a b", true},
	// '+' matches exactly one level.
	{"+", "a", true},
	{"+", "a/b", false},
	{"+", "", true}, // one empty level
	{"a/+", "a/b", true},
	{"a/+", "a", false},
	{"a/+", "a/b/c", false},
	{"a/+/c", "a/b/c", true},
	{"a/+/c", "a/b/d", false},
	{"+/+", "a/b", true},
	{"+/+", "a", false},
	{"+/+", "/a", true},
	{"+/+", "a/", true},
	{"+/+", "/", true},
	{"+/+", "a/b/c", false},
	{"+/b", "a/b", true},
	// '#' matches the parent level and everything below.
	{"#", "a", true},
	{"#", "a/b/c", true},
	{"#", "/", true},
	{"#", "", true},
	{"a/#", "a", true},
	{"a/#", "a/b", true},
	{"a/#", "a/b/c", true},
	{"a/#", "a/", true},
	{"a/#", "ab", false},
	{"a/#", "b/a", false},
	{"a/b/#", "a", false},
	{"+/#", "a", true},
	{"+/#", "a/b/c", true},
	{"a/+/#", "a", false},
	{"a/+/#", "a/b", true},
	{"a/+/#", "a/b/c/d", true},
	// Empty levels are real levels; leading and trailing slashes add one.
	{"/a", "/a", true},
	{"/a", "a", false},
	{"a/", "a/", true},
	{"a/", "a", false},
	{"a//b", "a//b", true},
	{"a//b", "a/b", false},
	{"a/+/b", "a//b", true},
	{"/+", "/a", true},
	{"/+", "a", false},
	{"+", "/a", false},
	{"/#", "/a/b", true},
	{"/#", "a", false},
	{"//", "//", true},
	{"+/+/+", "//", true},
	// Topics starting with '$' are hidden from leading wildcards [MQTT-4.7.2-1].
	{"#", "$SYS/load", false},
	{"#", "$SYS", false},
	{"+/load", "$SYS/load", false},
	{"+", "$SYS", false},
	{"+/#", "$SYS/a", false},
	{"$SYS/#", "$SYS/load", true},
	{"$SYS/#", "$SYS", true},
	{"$SYS/+", "$SYS/load", true},
	{"$SYS/load", "$SYS/load", true},
	{"$SYS/+/x", "$SYS/a/x", true},
	{"$other/#", "$SYS/a", false},
	{"$+", "$SYS", false}, // not a wildcard level: literal "$+"
	{"a/#", "a/$b", true}, // '$' only matters at the first level
	{"a/+", "a/$b", true},
	{"#", "a$", true},
}

type client struct{ name string }

func (c *client) String() string { return c.name }

func TestMatchTable(t *testing.T) {
	for _, tc := range matchCases {
		t.Run(fmt.Sprintf("%q~%q", tc.filter, tc.topic), func(t *testing.T) {
			trie := New[*client](0)
			c := &client{"c"}
			trie.Subscribe([]byte(tc.filter), Sub[*client]{Subscriber: c, QoS: 1})
			for round := range 2 { // the second round is answered by the cache
				r := trie.Match([]byte(tc.topic))
				got := len(r.Subs) == 1 && r.Subs[0].Subscriber == c
				if got != tc.match || len(r.Subs) > 1 {
					t.Fatalf("round %d: Match = %+v, want match %v", round, r.Subs, tc.match)
				}
			}
			if refMatch(tc.filter, tc.topic) != tc.match {
				t.Fatalf("reference matcher disagrees with the table")
			}

			shared := New[*client](0)
			shared.Subscribe([]byte("$share/g/"+tc.filter), Sub[*client]{Subscriber: c})
			r := shared.Match([]byte(tc.topic))
			if got := len(r.Shared) == 1; got != tc.match {
				t.Fatalf("shared: Match = %+v, want match %v", r.Shared, tc.match)
			}
		})
	}
}

func TestTreeMatchFilterTable(t *testing.T) {
	for _, tc := range matchCases {
		t.Run(fmt.Sprintf("%q~%q", tc.filter, tc.topic), func(t *testing.T) {
			tree := NewTree[int]()
			tree.Set([]byte(tc.topic), 7)
			tree.Set([]byte("zzz/unrelated"), 8)
			var got []string
			tree.MatchFilter([]byte(tc.filter), func(topic string, v int) bool {
				if v == 7 {
					got = append(got, topic)
				}
				return true
			})
			if matched := len(got) == 1 && got[0] == tc.topic; matched != tc.match || len(got) > 1 {
				t.Fatalf("MatchFilter found %q, want match %v", got, tc.match)
			}
		})
	}
}
