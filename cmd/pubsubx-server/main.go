// Command pubsubx-server runs the PubSubX MQTT broker.
//
//	pubsubx-server [flags] PORT
//
// Flags come first, the port last (as in the seed). -h lists the flags.
// Diagnostics go to stdout, one line each: "INFO: Server successfully
// started", client connected / subscribed / unsubscribed / disconnected /
// lost, session resumed / expired, and WARN lines for rejected input.
// SIGINT and SIGTERM shut the server down cleanly (MQTT 5 clients receive
// DISCONNECT 0x8B) and it exits 0.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pubsubx/pubsubx/core/acl"
	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/logx"
	"github.com/pubsubx/pubsubx/core/mqtt"
	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/registry"
)

// defaultGCPercent is the server's garbage collection target unless GOGC is
// set. The broker's steady state allocates almost nothing (fan-out is
// allocation-free), so collections are rare whatever the target; a lower
// target than Go's 100 mostly trims the heap headroom that idle connections
// would otherwise pay for in resident memory.
const defaultGCPercent = 50

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, shutdownSignals()))
}

func shutdownSignals() <-chan os.Signal {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	return ch
}

// options are the parsed command line.
type options struct {
	port    string
	bind    string
	engine  string
	quiet   bool
	verbose bool
	aclFile string
	metrics string
	eng     engines.Options
	cfg     broker.Config
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("pubsubx-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: pubsubx-server [flags] PORT\n\nRuns the PubSubX MQTT 3.1.1/5.0 broker on TCP port PORT.\nA size or count of 0 means its default; -grace 0 keeps no session after a connection loss.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.engine, "engine", registry.Default(), "I/O engine: "+strings.Join(registry.Names(), ", "))
	fs.StringVar(&o.bind, "bind", "", "address to listen on (default all interfaces)")
	fs.DurationVar(&o.cfg.Grace, "grace", broker.DefaultGrace, "how long a lost client's session (subscriptions, queued messages) is kept; caps MQTT 5 session expiry")
	fs.BoolVar(&o.quiet, "quiet", false, "print warnings and errors only")
	fs.BoolVar(&o.verbose, "v", false, "also print debug lines (every publish)")
	fs.StringVar(&o.aclFile, "acl", "", "access control list in mosquitto's acl_file format")
	fs.StringVar(&o.metrics, "metrics", "", "serve counters over HTTP on this address (e.g. 127.0.0.1:9100): /metrics (Prometheus text), /stats (JSON), /debug/pprof/")
	fs.IntVar(&o.eng.Loops, "loops", 0, "event loops for the epoll and netpoll engines (0: one per core)")
	fs.IntVar(&o.eng.ReadBufferSize, "read-buffer", engines.DefaultReadBufferSize, "bytes per read")
	fs.IntVar(&o.eng.MaxOutboundBytes, "max-outbound-bytes", engines.DefaultMaxOutboundBytes, "bytes queued per connection before deliveries go to its session queue (slow consumer)")
	fs.IntVar(&o.eng.MaxInputBacklog, "max-input-backlog", engines.DefaultMaxInputBacklog, "bytes read from a connection and not yet handled before it is closed (netpoll only: the other engines stop reading instead); at least twice -max-packet-size")
	fs.IntVar(&o.cfg.MaxPacketSize, "max-packet-size", broker.DefaultMaxPacketSize, "largest packet accepted from a client")
	fs.IntVar(&o.cfg.MaxConnections, "max-connections", broker.DefaultMaxConnections, "open connections allowed")
	fs.IntVar(&o.cfg.MaxQueuedMessages, "max-queued-messages", broker.DefaultMaxQueuedMessages, "messages queued per session (client away or slow) before new ones are dropped")
	fs.IntVar(&o.cfg.MaxQueuedBytes, "max-queued-bytes", broker.DefaultMaxQueuedBytes, "bytes queued per session before new messages are dropped")
	fs.IntVar(&o.cfg.MaxSubscriptions, "max-subscriptions", broker.DefaultMaxSubscriptions, "subscriptions per session; more are refused (SUBACK 0x97)")
	fs.IntVar(&o.cfg.MaxRetained, "max-retained", broker.DefaultMaxRetained, "retained messages held; retained messages to new topics beyond it are routed but not kept")
	fs.Int64Var(&o.cfg.MaxQueuedTotalBytes, "max-queued-total", broker.DefaultMaxQueuedTotalBytes, "bytes queued over all sessions together before new messages are dropped")
	fs.IntVar(&o.cfg.MaxInflight, "max-inflight", broker.DefaultMaxInflight, "outbound QoS 1/2 messages awaiting acknowledgement per client")
	maxKeepAlive := fs.Uint("max-keepalive", 0, "largest keep-alive in seconds a client may use (0: no limit); MQTT 5 clients are told it as Server Keep Alive")
	fs.DurationVar(&o.cfg.ConnectTimeout, "connect-timeout", broker.DefaultConnectTimeout, "close connections that send no CONNECT within this time")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return nil, errors.New("expected exactly one argument, the PORT")
	}
	o.port = fs.Arg(0)
	if p, err := strconv.Atoi(o.port); err != nil || p < 0 || p > 65535 {
		return nil, fmt.Errorf("invalid port %q: want a number from 0 to 65535", o.port)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"loops", o.eng.Loops}, {"read-buffer", o.eng.ReadBufferSize}, {"max-outbound-bytes", o.eng.MaxOutboundBytes},
		{"max-input-backlog", o.eng.MaxInputBacklog}, {"max-packet-size", o.cfg.MaxPacketSize}, {"max-connections", o.cfg.MaxConnections},
		{"max-queued-messages", o.cfg.MaxQueuedMessages}, {"max-queued-bytes", o.cfg.MaxQueuedBytes}, {"max-inflight", o.cfg.MaxInflight},
		{"max-subscriptions", o.cfg.MaxSubscriptions}, {"max-retained", o.cfg.MaxRetained}} {
		if f.v < 0 {
			return nil, fmt.Errorf("-%s %d: must not be negative (0 means the default)", f.name, f.v)
		}
	}
	if o.eng.ReadBufferSize > 0 && o.eng.ReadBufferSize < 1024 {
		return nil, fmt.Errorf("-read-buffer %d: at least 1024 bytes", o.eng.ReadBufferSize)
	}
	if o.cfg.MaxQueuedTotalBytes < 0 {
		return nil, fmt.Errorf("-max-queued-total %d: must not be negative (0 means the default)", o.cfg.MaxQueuedTotalBytes)
	}
	if o.cfg.Grace < 0 || o.cfg.ConnectTimeout < 0 {
		return nil, errors.New("-grace and -connect-timeout must not be negative")
	}
	if *maxKeepAlive > 65535 {
		return nil, fmt.Errorf("-max-keepalive %d: at most 65535 seconds", *maxKeepAlive)
	}
	o.cfg.MaxKeepAlive = uint16(*maxKeepAlive)
	if o.cfg.MaxInflight > 65535 {
		return nil, fmt.Errorf("-max-inflight %d: at most 65535 (MQTT packet identifiers)", o.cfg.MaxInflight)
	}
	if o.cfg.MaxPacketSize > mqtt.MaxRemainingLength+5 {
		return nil, fmt.Errorf("-max-packet-size %d: at most %d, MQTT's largest packet", o.cfg.MaxPacketSize, mqtt.MaxRemainingLength+5)
	}
	if backlog, packet := cmp.Or(o.eng.MaxInputBacklog, engines.DefaultMaxInputBacklog), cmp.Or(o.cfg.MaxPacketSize, broker.DefaultMaxPacketSize); o.engine == "netpoll" && backlog < 2*packet {
		return nil, fmt.Errorf("-max-input-backlog %d: at least twice -max-packet-size (%d)", backlog, 2*packet)
	}
	if o.cfg.Grace == 0 {
		o.cfg.Grace = -1 // the flag's 0 means "keep nothing"; the config's 0 means "default"
	}
	return o, nil
}

// run is main without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "ERROR: %v\n", err)
		return 2
	}
	level := logx.Info
	switch {
	case o.verbose:
		level = logx.Debug
	case o.quiet:
		level = logx.Warn
	}
	log := logx.New(stdout, level)
	o.cfg.Log = log
	if err := serve(o, log, stop); err != nil {
		log.Errorf("%v", err)
		return 1
	}
	return 0
}

func serve(o *options, log *logx.Logger, stop <-chan os.Signal) error {
	info, ok := registry.Lookup(o.engine)
	if !ok {
		return fmt.Errorf("unknown engine %q: available engines are %s", o.engine, strings.Join(registry.Names(), ", "))
	}
	if o.aclFile != "" {
		a, err := acl.Load(o.aclFile)
		if err != nil {
			return err
		}
		o.cfg.ACL = a
	}
	eng, err := info.New(o.eng)
	if err != nil {
		return fmt.Errorf("engine %s: %w", o.engine, err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(o.bind, o.port))
	if err != nil {
		return err
	}
	b := broker.New(o.cfg)
	served := make(chan error, 1)
	go func() { served <- eng.Serve(ln, b.Open) }()
	if o.metrics != "" {
		addr, err := serveMetrics(o.metrics, b, o.engine)
		if err != nil {
			return err
		}
		log.Infof("Metrics on http://%s/metrics", addr)
	}
	cfg := b.Config()
	log.Infof("Server successfully started")
	log.Infof("Listening on %s (engine %s, grace %v, max packet %d bytes)", ln.Addr(), o.engine, cfg.Grace, cfg.MaxPacketSize)

	select {
	case sig := <-stop:
		log.Infof("Received %v: shutting down", sig)
	case err := <-served:
		return fmt.Errorf("engine %s stopped: %w", o.engine, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.Close(ctx) // a timeout here shows in Shutdown below
	if err := eng.Shutdown(ctx); err != nil {
		log.Warnf("Shutdown incomplete: %v", err)
	}
	log.Infof("Server stopped")
	return nil
}
