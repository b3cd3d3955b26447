package mqtt

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidUTF8(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"", true},
		{"a/b/c", true},
		{"exactly8", true},
		{"sixteen-bytes-ok", true},
		{"héllo wörld, 世界 🙂", true},
		{"\x7f\x01 controls are allowed", true},
		{"\x00", false},
		{"abcdefg\x00", false},                 // NUL in a full word
		{"abcdefgh\x00", false},                // NUL in the tail
		{"abc\x00defghijkl", false},            // NUL mid-word
		{"\xc0\x80", false},                    // overlong NUL
		{"\xed\xa0\x80", false},                // U+D800, a surrogate [MQTT-1.5.4-1]
		{"\xed\xbf\xbf", false},                // U+DFFF
		{"\xef\xbf\xbf", true},                 // U+FFFF, a non-character: allowed
		{"\xf4\x90\x80\x80", false},            // past U+10FFFF
		{"abcdefgh\xff", false},                // bad byte in the tail
		{"\x80abcdefgh", false},                // lone continuation byte
		{"abcdefg\xe4\xb8", false},             // cut multi-byte sequence
		{strings.Repeat("a", 100) + "é", true}, // ASCII fast path, then non-ASCII
	} {
		if got := ValidUTF8([]byte(tc.s)); got != tc.want {
			t.Errorf("ValidUTF8(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// The fast path must agree with the standard library plus the NUL rule on
// every short input.
func TestValidUTF8AgreesWithStdlib(t *testing.T) {
	buf := make([]byte, 9)
	for i := 0; i < 1<<16; i++ {
		buf[8] = byte(i)
		buf[3] = byte(i >> 8)
		for j := range 3 {
			buf[j] = 'a'
		}
		for j := 4; j < 8; j++ {
			buf[j] = 'b'
		}
		want := utf8.Valid(buf) && !strings.ContainsRune(string(buf), 0)
		if got := ValidUTF8(buf); got != want {
			t.Fatalf("ValidUTF8(% x) = %v, want %v", buf, got, want)
		}
	}
}

func TestValidTopicName(t *testing.T) {
	for _, tc := range []struct {
		s     string
		valid bool
	}{
		{"a", true},
		{"a/b/c", true},
		{"/", true},
		{"a//b", true},
		{"$SYS/broker", true},
		{"sport/tennis/player1", true},
		{"ü/ö", true},
		{"", false},
		{"a/+", false},
		{"a/#", false},
		{"a+b", false},
		{"a\x00", false},
		{"\xff", false},
		{strings.Repeat("a", 65535), true},
		{strings.Repeat("a", 65536), false},
	} {
		err := ValidTopicName([]byte(tc.s))
		if (err == nil) != tc.valid || (err != nil && err != ErrTopicNameInvalid) {
			t.Errorf("ValidTopicName(%.20q) = %v, valid %v", tc.s, err, tc.valid)
		}
	}
}

func TestValidTopicFilter(t *testing.T) {
	for _, tc := range []struct {
		s     string
		valid bool
	}{
		{"#", true},
		{"+", true},
		{"a/#", true},
		{"a/+/b", true},
		{"+/+", true},
		{"/+", true},
		{"+/", true},
		{"a//b", true},
		{"$SYS/#", true},
		{"$share/g/a/#", true},
		{"$share/g/+", true},
		{"$share/g/#", true},
		{"$share/g//", true},
		{"$sharex/+", true}, // not the shared prefix: an ordinary filter
		{"", false},
		{"a#", false},
		{"#/a", false},
		{"a/#/", false},
		{"a/b+", false},
		{"a/+b", false},
		{"++", false},
		{"a\x00", false},
		{"\xc3", false},
		{"$share/", false},
		{"$share/g", false},
		{"$share/g/", false},
		{"$share//a", false},
		{"$share/+/a", false},
		{"$share/#/a", false},
		{"$share/g/a#", false},
		{strings.Repeat("a", 65536), false},
	} {
		err := ValidTopicFilter([]byte(tc.s))
		if (err == nil) != tc.valid || (err != nil && err != ErrTopicFilterInvalid) {
			t.Errorf("ValidTopicFilter(%q) = %v, valid %v", tc.s, err, tc.valid)
		}
	}
}

func TestParseShared(t *testing.T) {
	for _, tc := range []struct {
		s, group, filter string
		ok               bool
	}{
		{"$share/g/a/b", "g", "a/b", true},
		{"$share/group-1/#", "group-1", "#", true},
		{"$share/g//", "g", "/", true},
		{"a/b", "", "", false},
		{"$share/", "", "", false},
		{"$share/g", "", "", false},
		{"$share/g/", "", "", false},
		{"$share//a", "", "", false},
		{"$SHARE/g/a", "", "", false},
	} {
		group, filter, ok := ParseShared([]byte(tc.s))
		if ok != tc.ok || string(group) != tc.group || string(filter) != tc.filter {
			t.Errorf("ParseShared(%q) = %q, %q, %v; want %q, %q, %v", tc.s, group, filter, ok, tc.group, tc.filter, tc.ok)
		}
	}
}
