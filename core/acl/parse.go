package acl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrSyntax is wrapped by every *ParseError, so that callers can tell a
// malformed file (errors.Is(err, ErrSyntax)) from one that cannot be read.
var ErrSyntax = errors.New("acl: syntax error")

// ParseError reports a malformed line of an acl file.
type ParseError struct {
	File    string // the file's path as given to Load; "" for Parse
	Line    int    // 1-based line number
	Problem string // what is wrong, e.g. `unknown access "wirte"`
}

// Error returns "acl: line 7: unknown access "wirte"", with the file's path
// after "acl: " when there is one.
func (e *ParseError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("acl: %s: line %d: %s", e.File, e.Line, e.Problem)
	}
	return fmt.Sprintf("acl: line %d: %s", e.Line, e.Problem)
}

// Unwrap returns ErrSyntax.
func (e *ParseError) Unwrap() error { return ErrSyntax }

// maxLineBytes bounds one line of an acl file: a filter is at most 65535
// bytes [MQTT-4.7.3-3], so anything much longer is not a rule.
const maxLineBytes = 1 << 20

// Load reads and parses the acl file at path. Errors are *ParseError (with
// File set to path) for a malformed line, or wrap the *os.PathError of a
// file that cannot be opened or read.
func Load(path string) (*ACL, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("acl: %w", err)
	}
	defer f.Close()
	return parse(f, path)
}

// Parse reads an acl file in mosquitto's format (see the package
// documentation) from r until EOF. The first malformed line stops it with a
// *ParseError naming the line and the problem; a read error is returned
// wrapped.
func Parse(r io.Reader) (*ACL, error) {
	return parse(r, "")
}

// parse is Parse, with the file's path for error messages.
func parse(r io.Reader, path string) (*ACL, error) {
	p := parser{acl: &ACL{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLineBytes)
	for sc.Scan() {
		p.line++
		if problem := p.parseLine(sc.Text()); problem != "" {
			return nil, &ParseError{File: path, Line: p.line, Problem: problem}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &ParseError{File: path, Line: p.line + 1, Problem: "line longer than 1 MiB"}
		}
		return nil, fmt.Errorf("acl: read: %w", err)
	}
	return p.acl, nil
}

// parser holds the state of one Parse: the ACL being built and the section
// that "topic" lines currently go to.
type parser struct {
	acl     *ACL
	line    int    // number of the line being parsed
	user    string // the current "user" section's name
	inUsers bool   // a "user" line has been seen: topic lines go to user
}

// parseLine parses one line and returns "" or the problem with it.
func (p *parser) parseLine(text string) string {
	text = trimSpace(text)
	if text == "" || text[0] == '#' {
		return ""
	}
	keyword, rest := cutWord(text)
	switch keyword {
	case "topic", "pattern":
		return p.parseRule(keyword, rest)
	case "user":
		name := trimSpace(rest)
		if name == "" {
			return "user line without a username"
		}
		p.user, p.inUsers = name, true
		return ""
	}
	return fmt.Sprintf("unknown keyword %q (want topic, user or pattern)", keyword)
}

// parseRule parses what follows "topic" or "pattern" and adds the rule to
// its set. As in mosquitto, the access word is the next space-separated
// word and the filter is everything after it, trimmed; when nothing follows
// that word, it is the filter and the access is readwrite.
func (p *parser) parseRule(keyword, rest string) string {
	rest = trimLeadingSpaces(rest)
	if rest == "" {
		return keyword + " line without a filter"
	}
	word, after := cutWord(rest)
	filter := trimSpace(after)
	access := ReadWrite
	if filter == "" {
		filter = word
	} else {
		var ok bool
		if access, ok = parseAccess(word); !ok {
			return fmt.Sprintf("unknown access %q", word)
		}
	}
	if problem := filterProblem(filter); problem != "" {
		return problem
	}
	p.sectionFor(keyword).add(newRule(access, filter, keyword == "pattern"))
	return ""
}

// sectionFor returns the rule set a "topic" or "pattern" line goes to,
// creating it on first use.
func (p *parser) sectionFor(keyword string) *ruleSet {
	a := p.acl
	slot := &a.anonymous
	switch {
	case keyword == "pattern":
		slot = &a.patterns
	case p.inUsers:
		if a.users == nil {
			a.users = make(map[string]*ruleSet)
		}
		s := a.users[p.user]
		if s == nil {
			s = new(ruleSet)
			a.users[p.user] = s
		}
		return s
	}
	if *slot == nil {
		*slot = new(ruleSet)
	}
	return *slot
}

// parseAccess maps an access word to its Access.
func parseAccess(word string) (Access, bool) {
	switch word {
	case "read":
		return Read, true
	case "write":
		return Write, true
	case "readwrite":
		return ReadWrite, true
	case "deny":
		return Deny, true
	}
	return 0, false
}

// filterProblem describes what makes filter invalid as an MQTT topic
// filter, or returns "" when it is valid. The rules are mosquitto's for
// acl_file filters: '+' and '#' occupy whole levels and '#' only the last
// [MQTT-4.7.1-2] [MQTT-4.7.1-3]; at most 65535 bytes [MQTT-4.7.3-3]. A NUL
// byte [MQTT-4.7.3-2] is refused too, where mosquitto would silently cut
// the line short. Other bytes, invalid UTF-8 included, are accepted as
// mosquitto accepts them; such a rule simply matches no valid topic name.
func filterProblem(filter string) string {
	if len(filter) > 65535 {
		return "filter longer than 65535 bytes"
	}
	for i := 0; i < len(filter); i++ {
		c := filter[i]
		switch c {
		case 0:
			return fmt.Sprintf("NUL byte in filter %q", filter)
		case '+', '#':
			startsLevel := i == 0 || filter[i-1] == levelSeparator
			endsLevel := i+1 == len(filter) || filter[i+1] == levelSeparator
			if !startsLevel || !endsLevel {
				return fmt.Sprintf("wildcard %q not alone in its level in filter %q", c, filter)
			}
			if c == '#' && i+1 != len(filter) {
				return fmt.Sprintf("wildcard '#' not the last level in filter %q", filter)
			}
		}
	}
	return ""
}

// cutWord splits s at its first space: the word before it and everything
// after it. Only ' ' separates words, as in mosquitto (a tab does not).
func cutWord(s string) (word, rest string) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// trimLeadingSpaces removes leading ' ' bytes.
func trimLeadingSpaces(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

// trimSpace removes leading and trailing ASCII white space (C's isspace:
// space, \t, \n, \v, \f, \r), which is what mosquitto trims.
func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// isSpace reports whether c is ASCII white space as C's isspace defines it.
func isSpace(c byte) bool {
	return c == ' ' || c >= '\t' && c <= '\r'
}
