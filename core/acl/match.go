package acl

// This file holds a rule's compiled filter and the matching of topic names
// against it. Filters are split into levels once, at parse time; matching
// walks the topic name's bytes in place, so it neither allocates nor builds
// the substituted filter of a pattern rule.

// levelSeparator separates the levels of topic names and filters.
const levelSeparator = '/'

// levelKind says how a compiled filter level matches a topic level.
type levelKind uint8

const (
	levelExact        levelKind = iota // literal text, compared byte for byte
	levelSingle                        // '+': exactly one level, possibly empty
	levelMulti                         // '#': the parent level and everything below
	levelSubstitution                  // literal text mixed with %c and %u (pattern rules only)
)

// segmentKind says where the bytes of one piece of a substitution level
// come from.
type segmentKind uint8

const (
	segmentLiteral  segmentKind = iota // the rule's own text
	segmentClientID                    // %c: the client identifier
	segmentUsername                    // %u: the username
)

// segment is one piece of a substitution level: "dev-%c" is the literal
// "dev-" followed by the client identifier.
type segment struct {
	kind segmentKind
	text string // the literal text when kind is segmentLiteral
}

// level is one compiled level of a rule's filter.
type level struct {
	kind     levelKind
	text     string    // the literal text when kind is levelExact
	segments []segment // the pieces when kind is levelSubstitution
}

// rule is one compiled "topic" or "pattern" line. Rules are immutable after
// parsing and shared by every caller.
type rule struct {
	access Access  // Deny, Read, Write or ReadWrite
	levels []level // the filter split at '/'

	// leadingWildcard is set when the first level is '+' or '#': such a rule
	// never matches a topic name starting with '$' [MQTT-4.7.2-1].
	leadingWildcard bool
	// usesUsername is set when a pattern rule mentions %u; mosquitto skips
	// such a rule for a client without a username.
	usesUsername bool
}

// newRule compiles a "topic" line's filter (pattern false) or a "pattern"
// line's (pattern true). The filter must be valid (see filterProblem).
func newRule(access Access, filter string, pattern bool) rule {
	r := rule{access: access}
	r.levels, r.usesUsername = compileFilter(filter, pattern)
	first := r.levels[0].kind
	r.leadingWildcard = first == levelSingle || first == levelMulti
	return r
}

// compileFilter splits a validated filter into levels. In a pattern rule
// (substitute true) every "%c" and "%u" is a placeholder; in a topic rule
// they are literal text. Scanning is left to right, so "%%c" is a literal
// '%' followed by the client identifier, as in mosquitto.
func compileFilter(filter string, substitute bool) (levels []level, usesUsername bool) {
	for {
		text, rest, more := cutLevel(filter)
		lv := compileLevel(text, substitute)
		for _, s := range lv.segments {
			if s.kind == segmentUsername {
				usesUsername = true
			}
		}
		levels = append(levels, lv)
		if !more {
			return levels, usesUsername
		}
		filter = rest
	}
}

// cutLevel returns the first level of s and what follows its separator;
// more is false when s has no separator left.
func cutLevel(s string) (first, rest string, more bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == levelSeparator {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// compileLevel compiles one level of a validated filter.
func compileLevel(text string, substitute bool) level {
	switch {
	case text == "+":
		return level{kind: levelSingle}
	case text == "#":
		return level{kind: levelMulti}
	case !substitute:
		return level{kind: levelExact, text: text}
	}
	var segs []segment
	literalStart := 0
	for i := 0; i < len(text); i++ {
		if text[i] != '%' || i+1 >= len(text) {
			continue
		}
		var kind segmentKind
		switch text[i+1] {
		case 'c':
			kind = segmentClientID
		case 'u':
			kind = segmentUsername
		default:
			continue
		}
		if literalStart < i {
			segs = append(segs, segment{kind: segmentLiteral, text: text[literalStart:i]})
		}
		segs = append(segs, segment{kind: kind})
		i++ // skip the letter; the loop skips the '%'
		literalStart = i + 1
	}
	if segs == nil {
		return level{kind: levelExact, text: text}
	}
	if literalStart < len(text) {
		segs = append(segs, segment{kind: segmentLiteral, text: text[literalStart:]})
	}
	return level{kind: levelSubstitution, segments: segs}
}

// matches reports whether the rule's filter, with %c and %u replaced by
// clientID and username, matches the topic name. The replacement is
// textual, as in mosquitto: a client identifier "a/b" stands for two
// levels. The caller has already refused identifiers and usernames holding
// '+' or '#', so substituted text never acts as a wildcard.
//
// pos is the offset of the current topic level; pos == len(topic)+1 means
// the topic has no levels left. A topic "a/" has two levels, "a" and "".
func (r *rule) matches(topic []byte, clientID, username string) bool {
	if r.leadingWildcard && len(topic) > 0 && topic[0] == '$' {
		return false // [MQTT-4.7.2-1]
	}
	end := len(topic)
	pos := 0
	for i := range r.levels {
		lv := &r.levels[i]
		if lv.kind == levelMulti {
			return true // '#' also matches the parent level [MQTT-4.7.1-2]
		}
		if pos > end {
			return false // the filter is longer than the topic
		}
		switch lv.kind {
		case levelSingle:
			pos = skipLevel(topic, pos)
			continue
		case levelExact:
			if !hasPrefixAt(topic, pos, lv.text) {
				return false
			}
			pos += len(lv.text)
		case levelSubstitution:
			for _, s := range lv.segments {
				v := s.text
				switch s.kind {
				case segmentClientID:
					v = clientID
				case segmentUsername:
					v = username
				}
				if !hasPrefixAt(topic, pos, v) {
					return false
				}
				pos += len(v)
			}
		}
		switch {
		case pos == end:
			pos = end + 1
		case topic[pos] == levelSeparator:
			pos++
		default:
			return false // the topic level is longer than the filter's
		}
	}
	return pos > end
}

// skipLevel returns the offset of the level after the one starting at pos,
// or len(topic)+1 when it was the last.
func skipLevel(topic []byte, pos int) int {
	for i := pos; i < len(topic); i++ {
		if topic[i] == levelSeparator {
			return i + 1
		}
	}
	return len(topic) + 1
}

// hasPrefixAt reports whether topic[pos:] starts with s. The conversion in
// the comparison does not allocate.
func hasPrefixAt(topic []byte, pos int, s string) bool {
	return len(topic)-pos >= len(s) && string(topic[pos:pos+len(s)]) == s
}
