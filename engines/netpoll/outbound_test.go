//go:build linux

package netpoll

import "testing"

// Bytes the flusher took count against the bound until netpoll wrote them,
// even after the connection's queue was discarded.
func TestOutboundInFlightCounts(t *testing.T) {
	var q outbound
	q.Append(make([]byte, 10000))
	batch := q.take(maxHandOff)
	if n := batch.Len(); n != 10000 || q.size() != 10000 || q.Len() != 0 {
		t.Fatalf("after take: batch %d, size %d, queued %d; in-flight bytes must still count", n, q.size(), q.Len())
	}
	q.Append(make([]byte, 5))
	q.Release()
	if q.size() != 10000 {
		t.Fatalf("discarding the queue dropped in-flight bytes: size %d", q.size())
	}
	q.written(batch.Len())
	batch.Release()
	if q.size() != 0 {
		t.Fatalf("size %d after the flusher reported, want 0", q.size())
	}
}

// take hands out at most maxHandOff bytes (beyond the first chunk), in order.
func TestOutboundTakeBoundsHandOff(t *testing.T) {
	var q outbound
	q.Append(make([]byte, 3*maxHandOff))
	for q.Len() > 0 {
		batch := q.take(maxHandOff)
		if batch.Len() > maxHandOff || batch.Len() == 0 {
			t.Fatalf("hand-off of %d bytes, want 1 to %d", batch.Len(), maxHandOff)
		}
		q.written(batch.Len())
		batch.Release()
	}
	if q.size() != 0 {
		t.Fatalf("size %d after draining", q.size())
	}
}
