package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/pubsubx/pubsubx/core/broker"
)

// serveMetrics serves the broker's counters on addr: /metrics in the
// Prometheus text format, /stats as JSON, and Go's profiles under
// /debug/pprof/. It returns the bound address.
func serveMetrics(addr string, b *broker.Broker, engine string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(struct {
			Engine string
			broker.Stats
		}{engine, b.Stats()})
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		writePrometheus(w, b.Stats(), engine)
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	go http.Serve(ln, mux) // ends with the process
	return ln.Addr(), nil
}

func writePrometheus(w http.ResponseWriter, st broker.Stats, engine string) {
	gauge := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP pubsubx_%s %s\n# TYPE pubsubx_%s gauge\npubsubx_%s{engine=%q} %d\n", name, help, name, name, engine, v)
	}
	counter := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP pubsubx_%s %s\n# TYPE pubsubx_%s counter\npubsubx_%s{engine=%q} %d\n", name, help, name, name, engine, v)
	}
	gauge("connections", "Open connections.", int64(st.Connections))
	gauge("sessions", "Sessions held, online or not.", int64(st.Sessions))
	gauge("subscriptions", "Subscriptions held.", int64(st.Subscriptions))
	gauge("retained_messages", "Retained messages held.", int64(st.Retained))
	gauge("queued_bytes", "Bytes queued over all sessions (clients away or slow).", st.QueuedBytes)
	counter("connections_total", "Connections accepted.", st.ConnectionsTotal)
	counter("messages_received_total", "PUBLISH packets accepted from clients.", st.Received)
	counter("messages_delivered_total", "PUBLISH packets written to subscribers.", st.Delivered)
	fmt.Fprintf(w, "# HELP pubsubx_messages_dropped_total Messages lost to bounds, by reason.\n# TYPE pubsubx_messages_dropped_total counter\n")
	for _, d := range []struct {
		reason string
		n      int64
	}{{"queue_full", st.DroppedQueueFull}, {"too_large", st.DroppedTooLarge}, {"expired", st.DroppedExpired},
		{"session_ended", st.DroppedSessionExpired}, {"acl_denied", st.DroppedDenied}} {
		fmt.Fprintf(w, "pubsubx_messages_dropped_total{engine=%q,reason=%q} %d\n", engine, d.reason, d.n)
	}
	counter("retained_not_kept_total", "Retained messages routed but not retained: -max-retained reached.", st.DroppedRetained)
	counter("slow_consumer_total", "Deliveries queued because a subscriber's outbound buffer was full.", st.SlowConsumer)
	counter("protocol_errors_total", "Connections closed because of bad input.", st.ProtocolErrors)
	counter("input_backlog_closed_total", "Connections closed because their unhandled input passed the engine's bound (netpoll).", st.InputBacklog)
}
