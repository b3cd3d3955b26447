package logx

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestLevels(t *testing.T) {
	var out bytes.Buffer
	l := New(&out, Info)
	l.Debugf("hidden %d", 1)
	l.Infof("Client %s connected", "homer")
	l.Warnf("careful")
	l.SetLevel(Error)
	l.Warnf("hidden too")
	l.Errorf("bad %v", fmt.Errorf("thing"))
	want := "INFO: Client homer connected\nWARN: careful\nERROR: bad thing\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
	var nilLogger *Logger
	nilLogger.Warnf("discarded") // must not panic
	if nilLogger.Enabled(Error) {
		t.Fatal("a nil Logger reports a level enabled")
	}
}

// TestControlCharactersEscaped: a client identifier or topic with a newline
// cannot forge a second log line.
func TestControlCharactersEscaped(t *testing.T) {
	var out bytes.Buffer
	l := New(&out, Info)
	l.Infof("Client %s connected", "evil\nWARN: FORGED LINE\r\t\x00\x7fé \\n")
	want := `INFO: Client evil\nWARN: FORGED LINE\r\t\x00\x7fé \\n connected` + "\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Fatalf("%d lines, want 1", n)
	}
}

// TestLinesWhole: concurrent writers never interleave within a line.
func TestLinesWhole(t *testing.T) {
	var out bytes.Buffer
	l := New(&out, Debug)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				l.Infof("writer %d line %d %s", g, i, strings.Repeat("x", 100))
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 8*200 {
		t.Fatalf("%d lines, want %d", len(lines), 8*200)
	}
	for _, line := range lines {
		if !strings.HasPrefix(line, "INFO: writer ") || !strings.HasSuffix(line, strings.Repeat("x", 100)) {
			t.Fatalf("mangled line %q", line)
		}
	}
}
