package goroutine

import "sync"

// chunkSize is the size of an outbound chunk: a page, big enough for most MQTT
// packets, small enough that a subscriber with one queued message pins
// little.
const chunkSize = 4 << 10

// chunkPool recycles outbound chunks among all connections. It holds
// *[chunkSize]byte so that Put does not allocate.
var chunkPool = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// getChunk returns an empty chunk with capacity chunkSize.
func getChunk() []byte { return chunkPool.Get().(*[chunkSize]byte)[:0] }

// putChunk recycles a chunk made by getChunk; the caller must drop every
// reference to it.
func putChunk(b []byte) { chunkPool.Put((*[chunkSize]byte)(b[:chunkSize])) }

// outQueue is a connection's queue of outbound bytes: a list of pooled chunks,
// each filled before the next is started, so memory stays close to the bytes
// queued however small the Writes. Flush seals the chunks queued so far:
// sealed chunks may be taken by the writer. Bytes written after a Flush may
// still land in the last sealed chunk and leave with it, earlier than their
// own Flush, which the contract allows. Once taken, a chunk belongs to the
// writer, which reads it without the lock, and Writes go to a new chunk. The
// zero value is an empty queue; the owner serialises all calls.
type outQueue struct {
	chunks [][]byte // chunk i holds bytes len(chunks[i]); capacity chunkSize
	sealed int      // chunks[:sealed] are sealed
}

// append copies p to the end of the queue.
func (q *outQueue) append(p []byte) {
	for len(p) > 0 {
		last := len(q.chunks) - 1
		if last < 0 || len(q.chunks[last]) == chunkSize {
			q.chunks = append(q.chunks, getChunk())
			last++
		}
		tail := q.chunks[last]
		n := copy(tail[len(tail):chunkSize], p)
		q.chunks[last] = tail[:len(tail)+n]
		p = p[n:]
	}
}

// seal makes every queued chunk writable.
func (q *outQueue) seal() { q.sealed = len(q.chunks) }

// takeSealed moves the sealed chunks to the end of dst and returns it; the
// caller recycles them with putChunk once written.
func (q *outQueue) takeSealed(dst [][]byte) [][]byte {
	dst = append(dst, q.chunks[:q.sealed]...)
	rest := copy(q.chunks, q.chunks[q.sealed:])
	clear(q.chunks[rest:])
	q.chunks = q.chunks[:rest]
	q.sealed = 0
	return dst
}

// drop recycles every queued chunk, leaving the queue empty.
func (q *outQueue) drop() {
	for i, chunk := range q.chunks {
		putChunk(chunk)
		q.chunks[i] = nil
	}
	q.chunks = q.chunks[:0]
	q.sealed = 0
}

// trim releases the chunk list's array if a burst grew it and it is empty.
func (q *outQueue) trim() {
	if len(q.chunks) == 0 && cap(q.chunks) > maxIdleIovecs {
		q.chunks = nil
	}
}
