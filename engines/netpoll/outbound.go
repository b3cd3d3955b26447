//go:build linux

package netpoll

import "github.com/pubsubx/pubsubx/engines/internal/outq"

// outbound is one connection's bytes not yet taken by its socket: the queue
// of pooled chunks waiting for the flusher, plus a count of the bytes the
// flusher has taken from it and netpoll has not yet written. The flusher
// takes whole chunks (outq's detached way), so neither writers nor discard
// touch what it is copying. An idle connection holds no chunk. The owning
// conn's mutex guards it.
type outbound struct {
	outq.Queue
	inFlight int // bytes taken by the flusher, not yet written by netpoll
}

// size is what Options.MaxOutboundBytes bounds.
func (q *outbound) size() int { return q.Len() + q.inFlight }

// take detaches the oldest chunks, at least one and no more than limit bytes
// beyond the first, and counts their bytes as in flight. The batch is empty
// if nothing is queued; the caller owns it and releases it once netpoll has
// copied it.
func (q *outbound) take(limit int) outq.Batch {
	b := q.TakeAtMost(limit)
	q.inFlight += b.Len()
	return b
}

// written records that netpoll wrote n in-flight bytes.
func (q *outbound) written(n int) { q.inFlight -= n }
