package acl

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestMatchTopicFilters(t *testing.T) {
	cases := []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/bc", false},
		{"a/b", "a/b/c", false},
		{"a/b", "a", false},
		{"a/+", "a/b", true},
		{"a/+", "a/", true},
		{"a/+", "a", false},
		{"a/+", "a/b/c", false},
		{"+/+", "/x", true},
		{"+", "/", false},
		{"+/b", "a/b", true},
		{"a/#", "a", true}, // [MQTT-4.7.1-2]
		{"a/#", "a/", true},
		{"a/#", "a/b/c", true},
		{"a/#", "ab", false},
		{"a/+/#", "a/b", true},
		{"a/+/#", "a", false},
		{"#", "a/b", true},
		{"#", "/", true},
		{"a//b", "a//b", true},
		{"a//b", "a/b", false},
		{"/", "/", true},
		{"/", "", false},
		{"#", "$SYS/x", false}, // [MQTT-4.7.2-1]
		{"+/x", "$a/x", false},
		{"$SYS/#", "$SYS/x", true},
		{"$SYS/+", "$SYS/x", true},
		{"$SYS", "$SYS", true},
		{"a/%c", "a/%c", true}, // literal in topic rules
		{"a/%c", "a/c1", false},
	}
	for _, c := range cases {
		r := newRule(Read, c.filter, false)
		if got := r.matches([]byte(c.topic), "c1", "u1"); got != c.want {
			t.Errorf("%q matches %q = %v, want %v", c.filter, c.topic, got, c.want)
		}
	}
}

func TestMatchSubstitution(t *testing.T) {
	cases := []struct {
		filter, clientID, username, topic string
		want                              bool
	}{
		{"d/%c", "c1", "u1", "d/c1", true},
		{"d/%c", "c1", "u1", "d/c2", false},
		{"d/%c", "c1", "u1", "d/c1x", false},
		{"d/%c/#", "a/b", "", "d/a/b/x", true},
		{"d/%c/#", "a/b", "", "d/a/b", true},
		{"d/%c/#", "a/b", "", "d/a", false},
		{"d/%c", "", "", "d/", true},
		{"d/%c-%u", "c1", "u1", "d/c1-u1", true},
		{"d/%u%c", "c1", "u1", "d/u1c1", true},
		{"%%c", "c1", "", "%c1", true},
		{"%x/%", "c1", "", "%x/%", true},
		{"%c/+", "$dev", "", "$dev/x", true},
		{"%c/+", "dev", "", "$dev/x", false},
		{"+/%c", "dev", "", "$x/dev", false},
	}
	for _, c := range cases {
		r := newRule(Read, c.filter, true)
		if got := r.matches([]byte(c.topic), c.clientID, c.username); got != c.want {
			t.Errorf("%q with c=%q u=%q matches %q = %v, want %v", c.filter, c.clientID, c.username, c.topic, got, c.want)
		}
	}
}

// referenceMatch is mosquitto's way: substitute %c and %u textually, then
// match the whole filter against the topic level by level.
func referenceMatch(filter, clientID, username, topic string, pattern bool) bool {
	if pattern {
		var b strings.Builder
		for i := 0; i < len(filter); i++ {
			if filter[i] == '%' && i+1 < len(filter) && (filter[i+1] == 'c' || filter[i+1] == 'u') {
				if filter[i+1] == 'c' {
					b.WriteString(clientID)
				} else {
					b.WriteString(username)
				}
				i++
				continue
			}
			b.WriteByte(filter[i])
		}
		filter = b.String()
	}
	if strings.HasPrefix(topic, "$") != strings.HasPrefix(filter, "$") {
		return false
	}
	fl, tl := strings.Split(filter, "/"), strings.Split(topic, "/")
	for i, f := range fl {
		if f == "#" {
			return true
		}
		if i >= len(tl) || f != "+" && f != tl[i] {
			return false
		}
	}
	return len(fl) == len(tl)
}

// TestMatchAgainstReference compares the in-place matcher with the
// substitute-then-split reference on random filters, identities and topics
// over a small alphabet, so that near misses are frequent.
func TestMatchAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(alphabet string, max int) string {
		n := rng.IntN(max + 1)
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	var matched int
	for n := 0; n < 50000; n++ {
		levels := 1 + rng.IntN(4)
		parts := make([]string, levels)
		for i := range parts {
			switch rng.IntN(6) {
			case 0:
				parts[i] = "+"
			case 1:
				parts[i] = "%c"
			case 2:
				parts[i] = word("a%cu", 3)
			default:
				parts[i] = word("ab$", 2)
			}
		}
		if rng.IntN(4) == 0 {
			parts[levels-1] = "#"
		}
		filter := strings.Join(parts, "/")
		clientID, username := word("ab/$", 3), word("ab/", 2)
		topic := word("ab/$", 6)
		if topic == "" {
			topic = "a"
		}
		pattern := rng.IntN(2) == 0
		r := newRule(Read, filter, pattern)
		got := r.matches([]byte(topic), clientID, username)
		if want := referenceMatch(filter, clientID, username, topic, pattern); got != want {
			t.Fatalf("pattern=%v %q c=%q u=%q topic %q: got %v, want %v", pattern, filter, clientID, username, topic, got, want)
		}
		if got {
			matched++
		}
	}
	if matched < 1000 {
		t.Fatalf("only %d of 50000 random cases matched; the test is too weak", matched)
	}
}
