// Package enginetest is the conformance suite of PubSubX's I/O engines. Every
// engine runs the same scenarios over real loopback TCP sockets, so the core can
// rely on the promises of package engines whichever engine serves it (in the
// spirit of testing/fstest). An engine's test is one line:
//
//	func TestConformance(t *testing.T) { enginetest.Run(t, epoll.NewEngine) }
//
// Each scenario is a subtest with a fresh engine and listener. Every wait has a
// deadline (Timeout), so a broken engine fails a scenario instead of hanging the
// test binary. Run the suite with -race: several scenarios call Conn methods
// from many goroutines at once. With -short the scenarios move less data.
//
// Beyond what each scenario tests, the suite checks the callback order of every
// connection it serves: OnData calls never overlap, no OnData follows OnClose,
// OnClose runs exactly once, and after a successful Shutdown every connection
// has had its OnClose.
//
// # Readings of the contract
//
// Where package engines leaves room, the suite holds engines to these readings:
//   - The first Close of an open connection returns nil. Later Closes, and
//     every Write or Flush that starts after a Close has returned, return
//     ErrClosed (Write with n == 0).
//   - OnClose's error: errors.Is(err, io.EOF) after the peer's orderly close;
//     nil after a local Close or an orderly Shutdown; errors.Is the OnData
//     error that ended the connection.
//   - A Write longer than MaxOutboundBytes fails with ErrOutboundFull even on
//     an empty queue.
//   - Close and Shutdown deliver queued bytes, flushed or not, before the FIN
//     (32 KiB to a reading peer).
//   - Shutdown closes the listener: no open call after it returns. When its
//     context ends first it returns promptly (within Timeout/10), with nil or
//     the context's error, and every connection still gets its OnClose.
//   - When the listener fails (here: its owner closes it), Serve returns an
//     error other than ErrServerClosed instead of hanging.
//
// # For an engine's own tests and benchmarks
//
// The parts the suite is built from are exported, so that an engine's own
// tests need no harness of their own:
//   - Serve starts an engine on a loopback listener whose connections are
//     Peers (the engine's Conn plus a Handler that checks the callback order
//     and runs the Handlers given); Server.Dial connects a client and returns
//     both ends; the Server shuts down and checks everything at the test's
//     end.
//   - Records (AppendRecord, RecordReader) check that concurrent Writes stay
//     whole and in order; ReadN, MustRead, MustWrite, ExpectEOF, WaitUntil
//     and WaitGroup are bounded client-side waits.
//   - BenchmarkFanOut measures fan-out through the engine alone;
//     BenchmarkIdleConns, with IdleConnsServer, measures the memory of idle
//     connections in a child process (how many: the test binary's
//     -idleconns flag, which this package defines).
//
// The package's variables (Timeout, ManyConns) are read as tests run; set
// them before, never while a test runs.
package enginetest

import (
	"errors"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
)

// Timeout bounds every single wait of the suite: a read, an OnClose, a
// Shutdown. It is generous so that a loaded CI machine does not fail a correct
// engine; a broken engine still fails rather than hangs.
var Timeout = 30 * time.Second

// ManyConns is the number of concurrent clients of the ManyConns scenario. Each
// client costs two file descriptors in the test process (client and server
// side); keep 2*ManyConns well under `ulimit -n`. -short caps it at 200.
var ManyConns = 1000

// errHandler is what a scenario's OnData returns to make the engine close.
var errHandler = errors.New("enginetest: handler error")

// factory builds one engine; Run gets one from the engine's test.
type factory = func(engines.Options) (engines.Engine, error)

// scenario is one subtest of Run.
type scenario struct {
	name string
	run  func(t *testing.T, newEngine factory)
}

// Run runs every conformance scenario as a subtest against engines made by
// newEngine (a fresh one per scenario). It must be called from the test's own
// goroutine.
func Run(t *testing.T, newEngine func(engines.Options) (engines.Engine, error)) {
	for _, s := range scenarios() {
		t.Run(s.name, func(t *testing.T) { s.run(t, newEngine) })
	}
}

// scenarios lists the suite; each group is defined in one scenarios_*.go file.
func scenarios() []scenario {
	var all []scenario
	all = append(all, dataScenarios()...)
	all = append(all, closeScenarios()...)
	all = append(all, boundScenarios()...)
	return all
}

// group nests scenarios under one subtest name.
func group(ss ...scenario) func(*testing.T, factory) {
	return func(t *testing.T, newEngine factory) {
		for _, s := range ss {
			t.Run(s.name, func(t *testing.T) { s.run(t, newEngine) })
		}
	}
}

// start serves an engine built with opts whose connections call onData.
func start(t *testing.T, newEngine factory, opts engines.Options, onData func(*Peer, []byte) error) *Server {
	t.Helper()
	return Serve(t, newEngine, opts, Handlers{Data: onData})
}
