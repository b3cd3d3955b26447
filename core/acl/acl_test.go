package acl

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// expectation is one "#> OP USER CLIENT TOPIC VERDICT" line of a testdata
// file: a check and the answer mosquitto 2.0 gives (interop_test.go runs the
// same lines against a real mosquitto).
type expectation struct {
	line        int
	op          string // "pub", "recv" or "sub"
	username    string
	hasUsername bool
	clientID    string
	topic       string
	allow       bool
}

func (e expectation) String() string {
	user := "-"
	if e.hasUsername {
		user = strconv.Quote(e.username)
	}
	return fmt.Sprintf("line %d: %s user=%s client=%q topic=%q", e.line, e.op, user, e.clientID, e.topic)
}

// check asks a what e asks.
func (e expectation) check(a *ACL) bool {
	topic := []byte(e.topic)
	switch e.op {
	case "pub":
		return a.CanPublish(e.clientID, e.username, e.hasUsername, topic)
	case "recv":
		return a.CanReceive(e.clientID, e.username, e.hasUsername, topic)
	}
	return a.CanSubscribe(e.clientID, e.username, e.hasUsername, topic)
}

// readExpectations returns the expectations of a testdata file. Words are
// separated by spaces; a word starting with '"' is a Go string literal;
// anything after the verdict is a comment.
func readExpectations(t *testing.T, path string) []expectation {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []expectation
	for i, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "#>")
		if !ok {
			continue
		}
		var words []string
		var quoted [5]bool
		for len(words) < 5 {
			rest = strings.TrimLeft(rest, " ")
			if rest == "" {
				t.Fatalf("%s:%d: want OP USER CLIENT TOPIC VERDICT", path, i+1)
			}
			word, n := rest, strings.IndexByte(rest, ' ')
			if rest[0] == '"' {
				q, err := strconv.QuotedPrefix(rest)
				if err != nil {
					t.Fatalf("%s:%d: %v", path, i+1, err)
				}
				word, _ = strconv.Unquote(q)
				n = len(q)
				quoted[len(words)] = true
			} else if n >= 0 {
				word = rest[:n]
			} else {
				n = len(rest)
			}
			words = append(words, word)
			rest = rest[n:]
		}
		e := expectation{line: i + 1, op: words[0], clientID: words[2], topic: words[3], allow: words[4] == "allow"}
		if e.op != "pub" && e.op != "recv" && e.op != "sub" || words[4] != "allow" && words[4] != "deny" {
			t.Fatalf("%s:%d: bad op %q or verdict %q", path, i+1, e.op, words[4])
		}
		if words[1] != "-" || quoted[1] {
			e.username, e.hasUsername = words[1], true
		}
		out = append(out, e)
	}
	return out
}

// testdataFiles returns the well-formed testdata files.
func testdataFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.acl")
	if err != nil {
		t.Fatal(err)
	}
	var good []string
	for _, f := range files {
		if !strings.HasPrefix(filepath.Base(f), "bad-") {
			good = append(good, f)
		}
	}
	if len(good) == 0 {
		t.Fatal("no testdata files")
	}
	return good
}

// TestTestdata loads every testdata file and checks its expectations.
func TestTestdata(t *testing.T) {
	for _, file := range testdataFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			a, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			exps := readExpectations(t, file)
			var allows, denies int
			for _, e := range exps {
				if got := e.check(a); got != e.allow {
					t.Errorf("%v: got allow=%v, want %v", e, got, e.allow)
				}
				if e.allow {
					allows++
				} else {
					denies++
				}
			}
			if allows == 0 || denies == 0 {
				t.Errorf("%d allow and %d deny expectations; want both", allows, denies)
			}
		})
	}
}

// TestNilAndZeroACL checks the two ACLs that come from no file: nil (no
// acl file: only the '$' rules) and the zero value (an empty file: nothing).
func TestNilAndZeroACL(t *testing.T) {
	var none *ACL
	empty, err := Parse(strings.NewReader("# only a comment\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		acl       *ACL
		topic     string
		pub, recv bool
	}{
		{none, "a/b", true, true},
		{none, "$SYS/broker/load", false, true},
		{none, "$SYS/broker/connection/x/state", true, true},
		{none, "$share/g/a", false, false},
		{empty, "a/b", false, false},
		{&ACL{}, "a/b", false, false},
		{&ACL{}, "$SYS/broker/load", false, false},
	}
	for _, c := range cases {
		if got := c.acl.CanPublish("c", "", false, []byte(c.topic)); got != c.pub {
			t.Errorf("%p CanPublish(%q) = %v, want %v", c.acl, c.topic, got, c.pub)
		}
		if got := c.acl.CanReceive("c", "u", true, []byte(c.topic)); got != c.recv {
			t.Errorf("%p CanReceive(%q) = %v, want %v", c.acl, c.topic, got, c.recv)
		}
	}
}

// TestAllowsRefusesOddAccess checks that Allows answers only Read and Write.
func TestAllowsRefusesOddAccess(t *testing.T) {
	a := mustParse(t, "topic readwrite #\n")
	for _, want := range []Access{Read, Write} {
		if !a.Allows("c", "", false, []byte("x"), want) {
			t.Errorf("Allows(%v) = false, want true", want)
		}
	}
	for _, want := range []Access{Deny, ReadWrite, 4, 255} {
		if a.Allows("c", "", false, []byte("x"), want) {
			t.Errorf("Allows(%v) = true, want false", want)
		}
	}
}

func TestAccessString(t *testing.T) {
	for a, want := range map[Access]string{Read: "read", Write: "write", ReadWrite: "readwrite", Deny: "deny", 8: "invalid"} {
		if got := a.String(); got != want {
			t.Errorf("Access(%d).String() = %q, want %q", a, got, want)
		}
	}
}

// TestNoAllocations guards the hot paths: a check allocates nothing, through
// the anonymous, user and pattern stages alike.
func TestNoAllocations(t *testing.T) {
	a := benchACL(t)
	for _, c := range benchCases {
		topic := []byte(c.topic)
		n := testing.AllocsPerRun(200, func() {
			a.CanPublish(c.clientID, c.username, c.hasUsername, topic)
			a.CanReceive(c.clientID, c.username, c.hasUsername, topic)
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per check, want 0", c.name, n)
		}
	}
}

// TestConcurrentChecks runs checks from several goroutines on one ACL, for
// the race detector, and checks they agree with a sequential run.
func TestConcurrentChecks(t *testing.T) {
	a := benchACL(t)
	want := make([]bool, len(benchCases))
	for i, c := range benchCases {
		want[i] = a.CanPublish(c.clientID, c.username, c.hasUsername, []byte(c.topic))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 200; n++ {
				for i, c := range benchCases {
					if got := a.CanPublish(c.clientID, c.username, c.hasUsername, []byte(c.topic)); got != want[i] {
						errs <- c.name
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for name := range errs {
		t.Errorf("%s: concurrent answer differs", name)
	}
}

func mustParse(t testing.TB, text string) *ACL {
	t.Helper()
	a, err := Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// benchFile is a realistic acl file: an anonymous section, a few users with
// a dozen rules, and patterns.
const benchFile = `
topic read $SYS/#
topic read public/#
topic deny public/internal/#

user svc-ingest
topic write telemetry/+/raw
topic write telemetry/+/raw/#
topic read control/ingest/#
topic readwrite ingest/state
topic deny telemetry/quarantine/#

user dashboard
topic read telemetry/#
topic read alerts/#
topic read $SYS/broker/#
topic write dashboard/+/ack
topic deny telemetry/+/secret

pattern write devices/%c/telemetry/#
pattern read devices/%c/commands/#
pattern readwrite users/%u/#
pattern deny devices/%c/telemetry/blocked
`

type benchCase struct {
	name, clientID, username string
	hasUsername              bool
	topic                    string
}

var benchCases = []benchCase{
	{"anonymous", "c1", "", false, "public/news/today"},
	{"user", "ing-1", "svc-ingest", true, "telemetry/site7/raw/temp"},
	{"user-deny", "dash", "dashboard", true, "telemetry/site7/secret"},
	{"pattern", "sensor-0042", "", false, "devices/sensor-0042/telemetry/temp"},
	{"pattern-user", "app-7", "alice", true, "users/alice/inbox/1"},
	{"refused", "sensor-0042", "", false, "devices/sensor-0043/telemetry/temp"},
}

func benchACL(t testing.TB) *ACL { return mustParse(t, benchFile) }

// BenchmarkCanPublish measures one publish check per path through the
// stages (own rules, patterns, refusal).
func BenchmarkCanPublish(b *testing.B) { benchmarkCheck(b, (*ACL).CanPublish) }

// BenchmarkCanReceive measures one delivery check per path.
func BenchmarkCanReceive(b *testing.B) { benchmarkCheck(b, (*ACL).CanReceive) }

func benchmarkCheck(b *testing.B, check func(a *ACL, clientID, username string, hasUsername bool, topic []byte) bool) {
	a := benchACL(b)
	for _, c := range benchCases {
		topic := []byte(c.topic)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				check(a, c.clientID, c.username, c.hasUsername, topic)
			}
		})
	}
}
