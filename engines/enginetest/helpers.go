package enginetest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Client-side helpers of the scenarios, the exported ones for engines' own
// tests too. Each wait is bounded by Timeout.

// ReadN reads exactly n bytes from c within Timeout. It may be called from
// any goroutine.
func ReadN(c net.Conn, n int) ([]byte, error) {
	buf := make([]byte, n)
	c.SetReadDeadline(time.Now().Add(Timeout))
	got, err := io.ReadFull(c, buf)
	if err != nil {
		return buf[:got], fmt.Errorf("read %d of %d bytes: %w", got, n, err)
	}
	return buf, nil
}

// MustRead is ReadN that fails tb; call it from the test's goroutine only.
func MustRead(tb testing.TB, c net.Conn, n int) []byte {
	tb.Helper()
	buf, err := ReadN(c, n)
	if err != nil {
		tb.Fatal(err)
	}
	return buf
}

// MustWrite writes p to c within Timeout and fails tb if it cannot; call it
// from the test's goroutine only.
func MustWrite(tb testing.TB, c net.Conn, p []byte) {
	tb.Helper()
	c.SetWriteDeadline(time.Now().Add(Timeout))
	if _, err := c.Write(p); err != nil {
		tb.Fatalf("client write: %v", err)
	}
}

// ExpectEOF checks that the server closed c after sending everything read
// so far: the next read, within Timeout, returns io.EOF. It fails tb
// otherwise; call it from the test's goroutine only.
func ExpectEOF(tb testing.TB, c net.Conn) {
	tb.Helper()
	c.SetReadDeadline(time.Now().Add(Timeout))
	var b [1]byte
	n, err := c.Read(b[:])
	if n != 0 || err != io.EOF {
		tb.Fatalf("after the server closed: read %d bytes, %v; want io.EOF", n, err)
	}
}

// expectClosedByServer checks that the server closed c: a read ends with EOF or
// an error other than a timeout. Unlike expectEOF it accepts a reset.
func expectClosedByServer(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(Timeout))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server did not close the connection within %v", Timeout)
	}
}

// sameBytes fails t at the first difference between got and want.
func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d bytes, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: byte %d is %#x, want %#x", what, i, got[i], want[i])
		}
	}
}

// WaitUntil polls cond every millisecond until it holds, and fails tb if it
// does not within Timeout; call it from the test's goroutine only. Use it
// where no channel says that cond holds.
func WaitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", Timeout, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// WaitGroup waits up to Timeout for wg and fails tb if it is still waiting
// for what then; call it from the test's goroutine only.
func WaitGroup(tb testing.TB, wg *sync.WaitGroup, what string) {
	tb.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(Timeout):
		tb.Fatalf("%s still running after %v", what, Timeout)
	}
}

// sizes picks the amount of data for a scenario: full normally, small with -short.
func sizes(full, short int) int {
	if testing.Short() {
		return short
	}
	return full
}
