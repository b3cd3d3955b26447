// Package brokertest runs a real PubSubX broker on a real engine over
// loopback TCP for tests, and speaks raw MQTT to it packet by packet. Tests of
// the broker, the client library and the loadgen use it; production code
// never imports it (only cmd/ wires engines to the core there).
package brokertest

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/logx"
	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/registry"
)

// Engines returns the names of the engines available here, default first.
func Engines() []string { return registry.Names() }

// Server is a broker serving on a loopback port through one engine.
type Server struct {
	Addr   string // host:port to dial
	Broker *broker.Broker
	Engine engines.Engine
	log    *LogBuffer
	t      testing.TB
	once   sync.Once
}

// Start serves a broker with cfg on engine name at 127.0.0.1 on a free port.
// The broker logs at Debug level into the Server's log (see Logs, WaitLog).
// The server stops at the end of the test (or with Stop).
func Start(t testing.TB, name string, cfg broker.Config) *Server {
	return StartWith(t, name, cfg, engines.Options{})
}

// StartWith is Start with engine options.
func StartWith(t testing.TB, name string, cfg broker.Config, opts engines.Options) *Server {
	t.Helper()
	info, ok := registry.Lookup(name)
	if !ok {
		t.Fatalf("brokertest: unknown engine %q", name)
	}
	eng, err := info.New(opts)
	if err != nil {
		t.Fatalf("brokertest: engine %s: %v", name, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("brokertest: listen: %v", err)
	}
	logs := &LogBuffer{}
	if cfg.Log == nil {
		cfg.Log = logx.New(logs, logx.Debug)
	}
	s := &Server{Addr: ln.Addr().String(), Broker: broker.New(cfg), Engine: eng, log: logs, t: t}
	served := make(chan error, 1)
	go func() { served <- eng.Serve(ln, s.Broker.Open) }()
	t.Cleanup(func() {
		s.Stop()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Errorf("brokertest: engine %s: Serve did not return after Shutdown", name)
		}
	})
	return s
}

// Stop closes the broker and shuts the engine down; later calls do nothing.
func (s *Server) Stop() {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Broker.Close(ctx)
		if err := s.Engine.Shutdown(ctx); err != nil {
			s.t.Errorf("brokertest: shutdown: %v", err)
		}
	})
}

// Logs returns everything the broker logged so far.
func (s *Server) Logs() string { return s.log.String() }

// WaitLog waits until the broker's log contains substr, failing the test
// after timeout.
func (s *Server) WaitLog(substr string, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(s.Logs(), substr) {
		if time.Now().After(deadline) {
			s.t.Fatalf("brokertest: log line %q did not appear within %v; log:\n%s", substr, timeout, s.Logs())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WaitStats waits until cond holds for the broker's stats.
func (s *Server) WaitStats(what string, timeout time.Duration, cond func(broker.Stats) bool) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond(s.Broker.Stats()) {
		if time.Now().After(deadline) {
			s.t.Fatalf("brokertest: %s: not reached within %v; stats %+v", what, timeout, s.Broker.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// LogBuffer is an io.Writer collecting log lines, safe for concurrent use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns what was written.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
