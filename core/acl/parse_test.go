package acl

import (
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/iotest"
)

// badFiles are the malformed testdata files and the errors Load gives.
// interop_test.go checks that mosquitto refuses each of them too.
var badFiles = map[string]string{
	"testdata/bad-access.acl":  `acl: testdata/bad-access.acl: line 7: unknown access "wirte"`,
	"testdata/bad-keyword.acl": `acl: testdata/bad-keyword.acl: line 2: unknown keyword "Topic" (want topic, user or pattern)`,
	"testdata/bad-tab.acl":     `acl: testdata/bad-tab.acl: line 1: unknown keyword "topic\tread\ta" (want topic, user or pattern)`,
	"testdata/bad-hash.acl":    `acl: testdata/bad-hash.acl: line 2: wildcard '#' not the last level in filter "a/#/b"`,
	"testdata/bad-plus.acl":    `acl: testdata/bad-plus.acl: line 3: wildcard '+' not alone in its level in filter "dev/%c+/out"`,
	"testdata/bad-user.acl":    `acl: testdata/bad-user.acl: line 2: user line without a username`,
	"testdata/bad-topic.acl":   `acl: testdata/bad-topic.acl: line 2: topic line without a filter`,
}

func TestLoadBadFiles(t *testing.T) {
	for file, want := range badFiles {
		a, err := Load(file)
		if err == nil || err.Error() != want {
			t.Errorf("Load(%s) = %v, %v; want error %s", file, a, err, want)
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrSyntax) || pe.File != file {
			t.Errorf("Load(%s): error %#v is not a *ParseError for the file wrapping ErrSyntax", file, err)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such-file.acl")
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrSyntax) || !strings.HasPrefix(err.Error(), "acl: ") {
		t.Errorf("Load(missing) error = %v; want an acl: error wrapping fs.ErrNotExist", err)
	}
}

func TestParseErrors(t *testing.T) {
	long := "topic " + strings.Repeat("x", maxLineBytes)
	cases := []struct{ text, want string }{
		{"topic\n", `acl: line 1: topic line without a filter`},
		{"pattern   \n", `acl: line 1: pattern line without a filter`},
		{"user\n", `acl: line 1: user line without a username`},
		{"user \t \n", `acl: line 1: user line without a username`},
		{"topic READ a\n", `acl: line 1: unknown access "READ"`},
		{"topic deny-all a\n", `acl: line 1: unknown access "deny-all"`},
		{"\n\ntopics a\n", `acl: line 3: unknown keyword "topics" (want topic, user or pattern)`},
		{"topic a/b#\n", `acl: line 1: wildcard '#' not alone in its level in filter "a/b#"`},
		{"topic #/a\n", `acl: line 1: wildcard '#' not the last level in filter "#/a"`},
		{"topic read a+\n", `acl: line 1: wildcard '+' not alone in its level in filter "a+"`},
		{"topic read +a/b\n", `acl: line 1: wildcard '+' not alone in its level in filter "+a/b"`},
		{"topic read a # comment\n", `acl: line 1: wildcard '#' not alone in its level in filter "a # comment"`},
		{"topic read a\x00b\n", `acl: line 1: NUL byte in filter "a\x00b"`},
		{"topic " + strings.Repeat("x", 65536) + "\n", `acl: line 1: filter longer than 65535 bytes`},
		{"# ok\n" + long + "\n", `acl: line 2: line longer than 1 MiB`},
	}
	for _, c := range cases {
		_, err := Parse(strings.NewReader(c.text))
		if err == nil || err.Error() != c.want {
			t.Errorf("Parse(%.40q) error = %v, want %s", c.text, err, c.want)
		}
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("topic a\n"), iotest.ErrReader(boom))
	if _, err := Parse(r); !errors.Is(err, boom) || errors.Is(err, ErrSyntax) {
		t.Errorf("Parse(failing reader) error = %v, want one wrapping %v", err, boom)
	}
}

// TestParseLayout checks how lines are cut into words, mosquitto's way, and
// what is accepted beyond mosquitto (white space before a keyword or a
// comment, which mosquitto refuses unless it is spaces before a keyword).
func TestParseLayout(t *testing.T) {
	cases := []struct {
		name, text, topic string
		pub, recv         bool
	}{
		{"crlf", "topic write a/b\r\n", "a/b", true, false},
		{"leading spaces", "   topic write a/b", "a/b", true, false},
		{"leading tab", "\ttopic write a/b", "a/b", true, false},
		{"indented comment", "  # topic write a/b\ntopic read a/b", "a/b", false, true},
		{"extra spaces", "topic   read    a b  \t", "a b", false, true},
		{"tab inside filter", "topic read a\tb", "a\tb", false, true},
		{"tab after access", "topic read\ta/b", "read\ta/b", true, true},
		{"access word alone", "topic deny", "deny", true, true},
		{"access word alone, padded", "topic   write   ", "write", true, true},
		{"no final newline", "topic write z", "z", true, false},
		{"%c literal in topic lines", "topic write d/%c", "d/%c", true, false},
		{"user name trimmed", "user  bob \t\ntopic write b\nuser bob\ntopic read b", "b", false, false},
		{"empty levels", "topic write a//b/", "a//b/", true, false},
		{"invalid UTF-8 kept", "topic write a/\xff", "a/\xff", true, false},
	}
	for _, c := range cases {
		a, err := Parse(strings.NewReader(c.text))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		topic := []byte(c.topic)
		if got := a.CanPublish("id", "", false, topic); got != c.pub {
			t.Errorf("%s: CanPublish(%q) = %v, want %v", c.name, c.topic, got, c.pub)
		}
		if got := a.CanReceive("id", "", false, topic); got != c.recv {
			t.Errorf("%s: CanReceive(%q) = %v, want %v", c.name, c.topic, got, c.recv)
		}
	}
	a := mustParse(t, "user  bob \t\ntopic write b\nuser bob\ntopic read b")
	if !a.CanPublish("id", "bob", true, []byte("b")) || !a.CanReceive("id", "bob", true, []byte("b")) {
		t.Error(`"user  bob " and "user bob" are not one section`)
	}
}

// TestRuleSets checks where parsed rules land, which the package's checks
// rely on: deny, read and write lists per section.
func TestRuleSets(t *testing.T) {
	a := mustParse(t, `
topic read a
topic deny b
user u
topic c
pattern write d/%u
pattern deny e/%c
`)
	count := func(s *ruleSet) [3]int {
		if s == nil {
			return [3]int{-1, -1, -1}
		}
		return [3]int{len(s.deny), len(s.read), len(s.write)}
	}
	if got := count(a.anonymous); got != [3]int{1, 1, 0} {
		t.Errorf("anonymous deny/read/write = %v", got)
	}
	if got := count(a.users["u"]); got != [3]int{0, 1, 1} {
		t.Errorf("user u deny/read/write = %v", got)
	}
	if got := count(a.patterns); got != [3]int{1, 0, 1} {
		t.Errorf("patterns deny/read/write = %v", got)
	}
	if len(a.users) != 1 {
		t.Errorf("%d user sections, want 1", len(a.users))
	}
	if p := a.patterns.write[0]; !p.usesUsername || p.leadingWildcard {
		t.Errorf("d/%%u: usesUsername=%v leadingWildcard=%v", p.usesUsername, p.leadingWildcard)
	}
}
