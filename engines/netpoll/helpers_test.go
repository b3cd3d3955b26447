//go:build linux

package netpoll

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/enginetest"
)

// timeout bounds every wait of these tests; generous for a loaded CI machine.
const timeout = 30 * time.Second

// serve starts an engine with opts and the given write timeout whose
// connections do what handlers say; the test's end shuts it down.
func serve(tb testing.TB, opts engines.Options, writeTimeout time.Duration, handlers enginetest.Handlers) *enginetest.Server {
	tb.Helper()
	return enginetest.Serve(tb, func(o engines.Options) (engines.Engine, error) {
		return newEngine(o, writeTimeout, DefaultCloseTimeout)
	}, opts, handlers)
}

// connect dials s with the client's receive buffer set to rcvbuf bytes before
// connecting (rcvbuf > 0: a small one fills early) and waits for the engine to
// open the connection.
func connect(tb testing.TB, s *enginetest.Server, rcvbuf int) (*net.TCPConn, *enginetest.Peer) {
	tb.Helper()
	if rcvbuf <= 0 {
		return s.Dial(tb)
	}
	d := net.Dialer{Timeout: timeout, Control: func(_, _ string, raw syscall.RawConn) error {
		var serr error
		err := raw.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
		})
		return errors.Join(err, serr)
	}}
	c, err := d.Dial("tcp", s.Addr)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn), s.Accept(tb)
}
