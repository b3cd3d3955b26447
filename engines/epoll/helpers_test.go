//go:build linux

package epoll_test

import (
	"net"
	"testing"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/enginetest"
	"github.com/pubsubx/pubsubx/engines/epoll"
)

// serve runs an epoll engine with o on a loopback listener; handlers say
// what its connections do. The test's end shuts it down and checks the
// callbacks (see enginetest.Server).
func serve(t testing.TB, o engines.Options, handlers enginetest.Handlers) *enginetest.Server {
	t.Helper()
	return enginetest.Serve(t, epoll.NewEngine, o, handlers)
}

// refuse is an open function that refuses every connection, for Serve calls
// that fail before they open any.
func refuse(engines.Conn) engines.Handler { return nil }

// expectEOF checks that the server sends want on nc, then closes it.
func expectEOF(t testing.TB, nc net.Conn, want string) {
	t.Helper()
	if got := enginetest.MustRead(t, nc, len(want)); string(got) != want {
		t.Fatalf("read %q before EOF, want %q", got, want)
	}
	enginetest.ExpectEOF(t, nc)
}

// pattern returns n bytes of the stream byte(i % 251) starting at offset.
func pattern(offset, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((offset + i) % 251)
	}
	return b
}

// checkPattern verifies that b is the pattern stream at offset. It only
// reports, so reader goroutines may call it.
func checkPattern(t testing.TB, b []byte, offset int) {
	t.Helper()
	for i, v := range b {
		if v != byte((offset+i)%251) {
			t.Errorf("byte %d of the stream is %d, want %d", offset+i, v, (offset+i)%251)
			return
		}
	}
}
