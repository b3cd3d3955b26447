// Package acl is PubSubX's access control list: it reads mosquitto's
// acl_file format, so that files written for mosquitto 2.0 work unchanged,
// and answers whether a client may publish to a topic, subscribe to a
// filter, or receive a message.
//
// # File format
//
//	# comment
//	topic [read|write|readwrite|deny] <filter>
//	user <username>
//	pattern [read|write|readwrite|deny] <filter>
//
// Lines are trimmed of white space; blank lines and lines starting with '#'
// are ignored. Words are separated by spaces only, as in mosquitto (a tab
// does not separate them). The access word is optional (readwrite by
// default) and everything after it is the filter, trimmed, inner spaces
// included. As in mosquitto, a line with a single word after "topic" or
// "pattern" names a filter, not an access: "topic read" grants read and
// write on the topic "read". Beyond mosquitto, which refuses them, tabs
// before the keyword and indented comments are accepted.
//
// "topic" lines before the first "user" line apply to clients without a
// username; after "user NAME" they apply to clients whose username is NAME
// (sections for the same name add up). "pattern" lines apply to every
// client wherever they appear; in them "%c" stands for the client
// identifier and "%u" for the username, anywhere in the filter.
//
// # Decisions
//
// Checks follow mosquitto 2.0 exactly (security.c and security_default.c,
// confirmed against a running mosquitto 2.0.11 by this package's interop
// test):
//
//  1. Publishing to "$SYS..." is refused, except to
//     "$SYS/broker/connection/+/state" (bridge status); publishing to or
//     receiving on "$share..." is refused. The file cannot override this.
//  2. The client's own rules, that is the anonymous section for a client
//     without a username and its user section otherwise (a username
//     without a section has none): a matching deny refuses; else a
//     matching rule granting the access allows.
//  3. If the file has pattern lines and the username or client identifier
//     contains '+' or '#', the check is refused (such a name could widen a
//     pattern). '/' is allowed and substitutes as several levels.
//  4. Pattern rules, skipping those using %u for a client without a
//     username: a matching deny refuses; else a matching grant allows.
//  5. Otherwise the check is refused: a file with no rule for a client
//     gives it no access.
//
// So deny takes precedence over grants of the same stage, but a grant in
// the client's own rules wins over a pattern deny. A zero-length username
// counts as no username, as in mosquitto. Filters in rules match topic
// names by MQTT rules: '+' one level, '#' the parent level and all below,
// and a filter starting with a wildcard never matches a topic name starting
// with '$' [MQTT-4.7.2-1], so "#" does not grant "$SYS/...".
//
// Read access is enforced per delivery, as in mosquitto: a broker using this
// package calls CanReceive for every message it delivers, retained ones
// included (a subscription to "#" receives only the topics the client may
// read). At SUBSCRIBE it calls CanSubscribe, which is where PubSubX is
// stricter than mosquitto 2.0: mosquitto grants every subscription, PubSubX
// refuses one that can never deliver anything (see subscribe.go).
//
// # Concurrency and lifetime
//
// An *ACL is immutable once Parse or Load returns it and safe for concurrent
// use by any number of goroutines; reloading means parsing a new one and
// swapping the pointer. The check methods neither allocate nor retain their
// arguments.
package acl

import "bytes"

// Access is a set of rights on a topic: what a rule grants, or what a check
// asks for.
type Access uint8

const (
	// Read is the right to receive messages published to a topic.
	Read Access = 1 << iota
	// Write is the right to publish to a topic.
	Write
	// ReadWrite is both rights, the default of a rule.
	ReadWrite = Read | Write
	// Deny, in a rule, refuses every right on the topics it matches.
	Deny Access = 0
)

// String returns the access word used in acl files: "read", "write",
// "readwrite" or "deny".
func (a Access) String() string {
	switch a {
	case Read:
		return "read"
	case Write:
		return "write"
	case ReadWrite:
		return "readwrite"
	case Deny:
		return "deny"
	}
	return "invalid"
}

// ACL is a parsed acl file. See the package documentation for how a check
// is decided and for the concurrency rules. The zero value is an empty file,
// which refuses everything. A nil *ACL stands for no acl file: it applies
// only the built-in '$' rules (step 1), as mosquitto does without an
// acl_file.
type ACL struct {
	anonymous *ruleSet            // topic lines before the first user line
	users     map[string]*ruleSet // topic lines after "user NAME", by NAME
	patterns  *ruleSet            // pattern lines; nil when there are none
}

// ruleSet holds rules split by what they do, so a check scans only the rules
// that can decide it.
type ruleSet struct {
	deny  []rule // checked first; any match refuses
	read  []rule // read and readwrite rules
	write []rule // write and readwrite rules
}

// add appends r to the lists its access puts it in.
func (s *ruleSet) add(r rule) {
	if r.access == Deny {
		s.deny = append(s.deny, r)
		return
	}
	if r.access&Read != 0 {
		s.read = append(s.read, r)
	}
	if r.access&Write != 0 {
		s.write = append(s.write, r)
	}
}

// verdict is the outcome of one stage of a check.
type verdict uint8

const (
	undecided verdict = iota
	granted
	refused
)

// decide runs one stage: a matching deny refuses, then a matching grant of
// want allows. want is Read or Write. Pattern rules using %u are skipped
// when the client has no username.
func (s *ruleSet) decide(want Access, topic []byte, clientID, username string, hasUsername bool) verdict {
	for i := range s.deny {
		r := &s.deny[i]
		if (hasUsername || !r.usesUsername) && r.matches(topic, clientID, username) {
			return refused
		}
	}
	grants := s.read
	if want == Write {
		grants = s.write
	}
	for i := range grants {
		r := &grants[i]
		if (hasUsername || !r.usesUsername) && r.matches(topic, clientID, username) {
			return granted
		}
	}
	return undecided
}

// CanPublish reports whether the client may publish to the topic name. A
// client has no username when hasUsername is false or username is empty.
// topic must be a valid topic name (no wildcards); it is not kept after the
// call returns.
func (a *ACL) CanPublish(clientID, username string, hasUsername bool, topic []byte) bool {
	return a.Allows(clientID, username, hasUsername, topic, Write)
}

// CanReceive reports whether a message published to the topic name may be
// delivered to the client (read access). The broker calls it for every
// delivery, retained messages included, whatever subscription (plain,
// wildcard or "$share/{group}/...") matched: the check is on the message's
// topic name, never on the filter.
func (a *ACL) CanReceive(clientID, username string, hasUsername bool, topic []byte) bool {
	return a.Allows(clientID, username, hasUsername, topic, Read)
}

// sysPrefix and sharePrefix are the '$' topic prefixes mosquitto checks
// before any rule, by plain prefix comparison as mosquitto does ("$SYSX"
// counts as "$SYS").
var (
	sysPrefix   = []byte("$SYS")
	sharePrefix = []byte("$share")
)

// bridgeState is the only "$SYS" filter clients may publish to, so that
// bridges can report their connection state.
var bridgeState = newRule(Write, "$SYS/broker/connection/+/state", false)

// Allows reports whether the client has the access want (Read or Write; any
// other value is refused) on the topic name, deciding as the package
// documentation describes. CanPublish and CanReceive are Allows with Write
// and Read.
func (a *ACL) Allows(clientID, username string, hasUsername bool, topic []byte, want Access) bool {
	if want != Read && want != Write {
		return false
	}
	if bytes.HasPrefix(topic, sysPrefix) {
		if want == Write && !bridgeState.matches(topic, "", "") {
			return false
		}
	} else if bytes.HasPrefix(topic, sharePrefix) {
		return false
	}
	if a == nil {
		return true
	}
	if username == "" {
		hasUsername = false // mosquitto drops a zero-length username at CONNECT
	}
	own := a.anonymous
	if hasUsername {
		own = a.users[username]
	}
	if own != nil {
		switch own.decide(want, topic, clientID, username, hasUsername) {
		case granted:
			return true
		case refused:
			return false
		}
	}
	if a.patterns == nil {
		return false
	}
	if hasWildcard(clientID) || hasUsername && hasWildcard(username) {
		return false
	}
	return a.patterns.decide(want, topic, clientID, username, hasUsername) == granted
}

// hasWildcard reports whether s contains '+' or '#'.
func hasWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '+' || s[i] == '#' {
			return true
		}
	}
	return false
}
