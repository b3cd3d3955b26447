package broker

import (
	"strconv"
	"sync/atomic"
)

// counters are the broker-wide totals. Hot-path counts are summed per read
// batch in the workspace and added here once per batch.
type counters struct {
	connectionsTotal      atomic.Int64
	received              atomic.Int64 // PUBLISH packets accepted from clients
	delivered             atomic.Int64 // PUBLISH packets written to subscribers
	droppedQueueFull      atomic.Int64 // session queue at its bound
	droppedTooLarge       atomic.Int64 // over the subscriber's Maximum Packet Size
	droppedExpired        atomic.Int64 // message expiry passed while queued
	droppedExpiredSession atomic.Int64 // queued when the session expired or was cleaned
	droppedDenied         atomic.Int64 // publishes refused by the ACL
	droppedRetained       atomic.Int64 // retained messages not kept: MaxRetained
	protocolErrors        atomic.Int64 // connections closed for bad input
	slowConsumer          atomic.Int64 // deliveries diverted to the queue: outbound full
	inputBacklog          atomic.Int64 // connections closed by the engine: unhandled input over its bound
}

// Stats is a snapshot of the broker's counters and gauges.
type Stats struct {
	Connections      int   // open connections
	ConnectionsTotal int64 // accepted since start
	Sessions         int   // sessions held, online or not
	Subscriptions    int   // subscriptions in the trie
	Retained         int   // retained messages held
	QueuedBytes      int64 // memory held by all sessions' queues (see Config.MaxQueuedTotalBytes)

	Received  int64 // PUBLISH packets accepted from clients
	Delivered int64 // PUBLISH packets written to subscribers

	// What the bounds dropped, by reason.
	DroppedQueueFull      int64 // a session's queue was at MaxQueuedMessages/MaxQueuedBytes
	DroppedTooLarge       int64 // larger than the subscriber's Maximum Packet Size
	DroppedExpired        int64 // Message Expiry Interval passed while queued
	DroppedSessionExpired int64 // still queued when the session ended
	DroppedDenied         int64 // publishes refused by the ACL
	DroppedRetained       int64 // retained messages routed but not retained: MaxRetained reached

	SlowConsumer   int64 // deliveries queued because a subscriber's outbound buffer was full
	ProtocolErrors int64 // connections closed because of bad input
	// InputBacklog counts connections the engine closed because their input,
	// read and not yet handled, passed its bound (engines.ErrInputBacklog):
	// clients publishing faster than the broker routes, on an engine that
	// cannot stop reading them (netpoll).
	InputBacklog int64
}

// counted writes n and noun for log lines, plural unless n is 1, then
// suffix if any: counted(3, "message", "queued") is "3 messages queued".
func counted[N int | int64](n N, noun, suffix string) string {
	s := strconv.FormatInt(int64(n), 10) + " " + noun
	if n != 1 {
		s += "s"
	}
	if suffix != "" {
		s += " " + suffix
	}
	return s
}

// Dropped returns the messages lost to bounds (ACL refusals excluded).
func (s Stats) Dropped() int64 {
	return s.DroppedQueueFull + s.DroppedTooLarge + s.DroppedExpired + s.DroppedSessionExpired
}

// Stats returns a snapshot of the broker's counters. Counts made by a read
// batch in progress appear when that batch ends.
func (b *Broker) Stats() Stats {
	b.mu.Lock()
	st := Stats{Connections: len(b.conns), Sessions: len(b.sessions)}
	b.mu.Unlock()
	st.Subscriptions = b.subs.Count()
	st.Retained = b.retained.Len()
	st.QueuedBytes = b.queuedTotal.Load()
	c := &b.stats
	st.ConnectionsTotal = c.connectionsTotal.Load()
	st.Received = c.received.Load()
	st.Delivered = c.delivered.Load()
	st.DroppedQueueFull = c.droppedQueueFull.Load()
	st.DroppedTooLarge = c.droppedTooLarge.Load()
	st.DroppedExpired = c.droppedExpired.Load()
	st.DroppedSessionExpired = c.droppedExpiredSession.Load()
	st.DroppedDenied = c.droppedDenied.Load()
	st.DroppedRetained = c.droppedRetained.Load()
	st.SlowConsumer = c.slowConsumer.Load()
	st.ProtocolErrors = c.protocolErrors.Load()
	st.InputBacklog = c.inputBacklog.Load()
	return st
}
