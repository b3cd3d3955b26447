package mqtt

import (
	"bytes"
	"unicode/utf8"
)

// sharePrefix starts a shared subscription's topic filter [MQTT-4.8.2].
const sharePrefix = "$share/"

// ValidUTF8 reports whether b is an MQTT UTF-8 Encoded String's data: well
// formed UTF-8 (which excludes the surrogates U+D800 to U+DFFF) without the
// null character U+0000 [MQTT-1.5.4-1] [MQTT-1.5.4-2]. It does not check the
// 65535-byte bound of the length prefix. Pure ASCII is checked eight bytes
// at a time.
func ValidUTF8(b []byte) bool {
	const lows, highs = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		// The high bit of a byte of w-lows&^w is set where that byte of w
		// is zero (or, after a zero, possibly 0x01: both need the slow path).
		if (w|(w-lows)&^w)&highs != 0 {
			return validUTF8Slow(b)
		}
		b = b[8:]
	}
	for _, c := range b {
		if c == 0 || c >= utf8.RuneSelf {
			return validUTF8Slow(b)
		}
	}
	return true
}

func validUTF8Slow(b []byte) bool {
	for len(b) > 0 {
		c := b[0]
		if c < utf8.RuneSelf {
			if c == 0 {
				return false
			}
			b = b[1:]
			continue
		}
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			return false
		}
		b = b[size:]
	}
	return true
}

// topicByte classifies the bytes a topic name check must look at: 0 for
// ordinary ASCII, byteNonASCII for the start or continuation of a multi-byte
// sequence, byteNull for U+0000 and byteWildcard for '+' and '#'.
var topicByte = func() (t [256]byte) {
	for c := utf8.RuneSelf; c < 256; c++ {
		t[c] = byteNonASCII
	}
	t[0] = byteNull
	t['+'] = byteWildcard
	t['#'] = byteWildcard
	return t
}()

const (
	byteNonASCII = 1 << iota
	byteNull
	byteWildcard
)

// checkTopicName checks a topic name's characters in one pass: errBadUTF8 for
// ill-formed UTF-8 (a Malformed Packet), ErrTopicNameInvalid for wildcards.
// Emptiness and length are the caller's to check.
func checkTopicName(b []byte) error {
	var seen byte
	for _, c := range b {
		seen |= topicByte[c]
	}
	switch {
	case seen == 0:
		return nil
	case seen&byteWildcard != 0:
		return ErrTopicNameInvalid // [MQTT-3.3.2-2]
	case seen&byteNull != 0 || !validUTF8Slow(b):
		return errBadUTF8
	}
	return nil
}

// ValidTopicName returns nil if b may name a topic in a PUBLISH: at least one
// and at most 65535 bytes of valid UTF-8 without the wildcards '+' and '#'
// [MQTT-4.7.3-1] [MQTT-3.3.2-2]. Otherwise it returns ErrTopicNameInvalid.
// Topics starting with '$' are valid names; the broker decides what it
// allows there.
func ValidTopicName(b []byte) error {
	if len(b) == 0 || len(b) > 65535 || checkTopicName(b) != nil {
		return ErrTopicNameInvalid
	}
	return nil
}

// ValidTopicFilter returns nil if b is a valid topic filter, otherwise
// ErrTopicFilterInvalid. A filter is 1 to 65535 bytes of valid UTF-8
// [MQTT-4.7.3-1]; '+' occupies a whole level [MQTT-4.7.1-2]; '#' occupies a
// whole level and is the last character [MQTT-4.7.1-1]. A filter starting
// with "$share/" is a shared subscription, $share/{ShareName}/{filter}: the
// share name is at least one character without '/', '+' or '#', and a valid
// filter follows it [MQTT-4.8.2-1] [MQTT-4.8.2-2]. Shared subscriptions are
// recognised for both protocol versions.
func ValidTopicFilter(b []byte) error {
	if len(b) == 0 || len(b) > 65535 || !ValidUTF8(b) {
		return ErrTopicFilterInvalid
	}
	if bytes.HasPrefix(b, []byte(sharePrefix)) {
		group, filter, ok := ParseShared(b)
		if !ok || bytes.ContainsAny(group, "+#") {
			return ErrTopicFilterInvalid
		}
		b = filter
	}
	return checkFilterLevels(b)
}

// checkFilterLevels checks the wildcard placement of a non-empty filter.
func checkFilterLevels(b []byte) error {
	for i, c := range b {
		if c != '+' && c != '#' {
			continue
		}
		if i > 0 && b[i-1] != '/' {
			return ErrTopicFilterInvalid
		}
		next := i + 1
		if c == '#' && next != len(b) {
			return ErrTopicFilterInvalid
		}
		if next < len(b) && b[next] != '/' {
			return ErrTopicFilterInvalid
		}
	}
	return nil
}

// ParseShared splits a shared subscription's filter, $share/{group}/{filter},
// into the share name and the topic filter; both alias filter. ok is false
// if filter does not start with "$share/" or has an empty share name or no
// topic filter after it. ParseShared does not check the share name's or the
// topic filter's characters: ValidTopicFilter does.
func ParseShared(filter []byte) (group, topicFilter []byte, ok bool) {
	if !bytes.HasPrefix(filter, []byte(sharePrefix)) {
		return nil, nil, false
	}
	rest := filter[len(sharePrefix):]
	slash := bytes.IndexByte(rest, '/')
	if slash <= 0 || slash == len(rest)-1 {
		return nil, nil, false
	}
	return rest[:slash], rest[slash+1:], true
}
