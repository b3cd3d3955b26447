package acl

import (
	"bytes"
	"strings"
)

// This file decides SUBSCRIBE. Where mosquitto 2.0 grants every
// subscription and then delivers nothing the file forbids, PubSubX refuses
// a filter that can never deliver anything to the client: one that no read
// grant overlaps, or one that a deny rule covers entirely. Deliveries are
// still checked one by one with CanReceive, so the messages a client gets
// are the same as with mosquitto; only the SUBACK differs, telling the
// client at once that the subscription is useless (0x87 Not authorized).

// sharePrefixSlash starts a shared subscription: "$share/{group}/{filter}".
var sharePrefixSlash = []byte("$share/")

// CanSubscribe reports whether the client may subscribe to the topic
// filter, deciding by the stages of the package documentation with filters
// in place of topic names: in each stage a deny rule covering every topic
// the filter matches refuses, then a read grant matching at least one of
// them allows. A shared subscription is checked on its filter part. The
// filter must be valid; unlike the other checks this one allocates, as
// SUBSCRIBE is not a hot path.
func (a *ACL) CanSubscribe(clientID, username string, hasUsername bool, filter []byte) bool {
	if bytes.HasPrefix(filter, sharePrefixSlash) {
		rest := filter[len(sharePrefixSlash):]
		if i := bytes.IndexByte(rest, levelSeparator); i >= 0 {
			filter = rest[i+1:]
		}
	}
	if a == nil {
		return true
	}
	if username == "" {
		hasUsername = false
	}
	levels := strings.Split(string(filter), "/")
	own := a.anonymous
	if hasUsername {
		own = a.users[username]
	}
	if own != nil {
		switch own.decideFilter(levels, clientID, username, hasUsername) {
		case granted:
			return true
		case refused:
			return false
		}
	}
	if a.patterns == nil || hasWildcard(clientID) || hasUsername && hasWildcard(username) {
		return false
	}
	return a.patterns.decideFilter(levels, clientID, username, hasUsername) == granted
}

// decideFilter is decide for a subscription filter split into levels.
func (s *ruleSet) decideFilter(filter []string, clientID, username string, hasUsername bool) verdict {
	for i := range s.deny {
		r := &s.deny[i]
		if (hasUsername || !r.usesUsername) && covers(r.expand(clientID, username), filter) {
			return refused
		}
	}
	for i := range s.read {
		r := &s.read[i]
		if (hasUsername || !r.usesUsername) && overlaps(r.expand(clientID, username), filter) {
			return granted
		}
	}
	return undecided
}

// expand returns the rule's filter levels with %c and %u substituted (a
// substituted "/" makes several levels, as in matches).
func (r *rule) expand(clientID, username string) []string {
	var b strings.Builder
	for i, lv := range r.levels {
		if i > 0 {
			b.WriteByte(levelSeparator)
		}
		switch lv.kind {
		case levelSingle:
			b.WriteByte('+')
		case levelMulti:
			b.WriteByte('#')
		case levelExact:
			b.WriteString(lv.text)
		case levelSubstitution:
			for _, s := range lv.segments {
				switch s.kind {
				case segmentClientID:
					b.WriteString(clientID)
				case segmentUsername:
					b.WriteString(username)
				default:
					b.WriteString(s.text)
				}
			}
		}
	}
	return strings.Split(b.String(), "/")
}

// dollarExcluded reports whether two filters cannot share a topic because
// one starts with a wildcard and every topic of the other starts with '$'
// [MQTT-4.7.2-1].
func dollarExcluded(a, b []string) bool {
	wild := func(l string) bool { return l == "+" || l == "#" }
	dollar := func(l string) bool { return strings.HasPrefix(l, "$") }
	return wild(a[0]) && dollar(b[0]) || wild(b[0]) && dollar(a[0])
}

// overlaps reports whether some topic name matches both filters.
func overlaps(a, b []string) bool {
	if dollarExcluded(a, b) {
		return false
	}
	i := 0
	for ; i < len(a) && i < len(b); i++ {
		if a[i] == "#" || b[i] == "#" {
			return true
		}
		if a[i] != "+" && b[i] != "+" && a[i] != b[i] {
			return false
		}
	}
	switch {
	case len(a) == len(b):
		return true
	case i < len(a):
		return a[i] == "#" // "x/#" also matches "x"
	default:
		return b[i] == "#"
	}
}

// covers reports whether filter outer matches every topic name that filter
// inner matches.
func covers(outer, inner []string) bool {
	if outer[0] == "+" || outer[0] == "#" {
		if strings.HasPrefix(inner[0], "$") {
			return false
		}
	}
	for i, l := range inner {
		if i >= len(outer) {
			return false
		}
		switch {
		case outer[i] == "#":
			return true
		case l == "#":
			return false
		case outer[i] == "+":
		case l == "+" || outer[i] != l:
			return false
		}
	}
	return len(outer) == len(inner) || len(outer) == len(inner)+1 && outer[len(inner)] == "#"
}
