//go:build linux

package netpoll

import (
	"sync"
	"unsafe"
)

// chunkBytes is the size of one pooled outbound chunk, header included: one
// 4 KiB size class of the Go allocator.
const chunkBytes = 4096

// chunk is one link of an outbound queue; data[:n] holds queued bytes.
type chunk struct {
	next *chunk
	n    int
	data [chunkBytes - 2*8]byte
}

var _ [0]struct{} = [unsafe.Sizeof(chunk{}) - chunkBytes]struct{}{} // chunk fills its size class

// chunks recycles chunks among all connections: writers take them, flushers
// give them back once netpoll has sent their bytes, so steady-state fan-out
// allocates nothing.
var chunks = sync.Pool{New: func() any { return new(chunk) }}

// releaseChunks returns a list of chunks to the pool.
func releaseChunks(c *chunk) {
	for c != nil {
		next := c.next
		c.next, c.n = nil, 0
		chunks.Put(c)
		c = next
	}
}

// outbound is one connection's bytes not yet taken by its socket: a linked
// list of chunks waiting for the flusher, plus a count of the bytes the
// flusher has handed to netpoll and netpoll has not yet written. An idle
// connection holds no chunk. The owning conn's mutex guards it.
type outbound struct {
	head, tail *chunk
	queued     int // bytes in the list
	inFlight   int // bytes handed to netpoll, not yet written by it
}

// size is what Options.MaxOutboundBytes bounds.
func (q *outbound) size() int { return q.queued + q.inFlight }

// append copies p to the end of the queue.
func (q *outbound) append(p []byte) {
	for len(p) > 0 {
		t := q.tail
		if t == nil || t.n == len(t.data) {
			t = chunks.Get().(*chunk)
			if q.tail == nil {
				q.head = t
			} else {
				q.tail.next = t
			}
			q.tail = t
		}
		k := copy(t.data[t.n:], p)
		t.n += k
		q.queued += k
		p = p[k:]
	}
}

// take detaches the oldest chunks, at least one and no more than limit bytes
// beyond the first, and counts their bytes as in flight. It returns the list
// (nil if the queue is empty) and its byte count. The caller owns the list;
// writers no longer touch it, even a partly filled tail.
func (q *outbound) take(limit int) (*chunk, int) {
	first := q.head
	if first == nil {
		return nil, 0
	}
	last, n := first, first.n
	for last.next != nil && n+last.next.n <= limit {
		last = last.next
		n += last.n
	}
	q.head = last.next
	if q.head == nil {
		q.tail = nil
	}
	last.next = nil
	q.queued -= n
	q.inFlight += n
	return first, n
}

// written records that netpoll wrote n in-flight bytes.
func (q *outbound) written(n int) { q.inFlight -= n }

// discard drops the queued chunks, for a closed connection. Bytes in flight
// stay counted until the flusher reports them.
func (q *outbound) discard() {
	releaseChunks(q.head)
	q.head, q.tail, q.queued = nil, nil, 0
}
