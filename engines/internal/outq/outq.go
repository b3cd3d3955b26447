// Package outq is the outbound byte queue the I/O engines share: one
// connection's bytes written by the core and not yet taken by its socket,
// held in a linked list of pooled chunks of 4 KiB.
//
// Append copies into the last chunk until it is full, then into a new one
// from a process-wide pool, so memory stays close to the bytes queued however
// small the writes, and a queue whose bytes have all left holds no chunk: an
// idle connection pays for the Queue struct only (three words). Chunks go back
// to the pool once their bytes are written, so steady-state fan-out allocates
// nothing. A chunk is a small header and a buffer without pointers, which the
// garbage collector does not scan and allocates cheaply when the pool runs
// dry.
//
// # Two ways out
//
// Bytes leave a Queue in one of two ways; an engine picks the one that suits
// its writer.
//
//   - In place: Gather (Linux) points iovecs at the queued bytes for writev;
//     after the system call, Consume drops the bytes the socket took and
//     recycles the chunks it emptied. A partial write keeps the rest queued,
//     in place. The epoll engine works this way.
//   - Detached: TakeAtMost and TakeAtLeast unlink whole chunks from the head
//     and hand them over as a Batch, which the taker reads without any lock
//     and then Releases. The netpoll engine (which copies a batch into
//     netpoll's buffer) and the goroutine engine (which writes a batch with
//     net.Buffers) work this way.
//
// # Concurrency
//
// A Queue is not safe for concurrent use: its owner serialises every method
// call, typically under a per-connection mutex. Two rules let the owner run
// the write itself without that mutex while other goroutines keep appending:
//
//   - Append writes only past the queued bytes: into the free space of the
//     last chunk (data[w:], where the queued bytes are data[r:w]) and into new
//     chunks it links after it. It never writes a byte Gather pointed at, nor
//     frees a chunk. So once Gather has returned, the gathered bytes stay
//     valid and unchanged while appends go on, until the gatherer itself calls
//     Consume, Release or a Take; no other goroutine may call those until the
//     gatherer is done with its iovecs.
//   - A Batch is no longer part of the Queue: Append does not touch its
//     chunks, not even a partly filled last one (later bytes go to a fresh
//     chunk), and Release of the Queue does not free them. Until a chunk is
//     taken, though, Append keeps filling it: bytes appended after the owner
//     decided what to take may still leave with the chunk that holds them.
//
// # Lifetimes
//
// The iovecs Gather fills are valid until the next Consume, Release or Take
// on the Queue. The slices Batch.AppendSlices returns are valid until the
// Batch is released. Append copies its argument, which the caller may reuse
// at once.
package outq

import "sync"

// ChunkSize is how many bytes one pooled chunk holds: its buffer fills one
// 4 KiB size class of the Go allocator; its 48-byte header is apart.
const ChunkSize = 4096

// chunk is one link of a queue: a small header, and a buffer that holds no
// pointers, so the garbage collector neither scans it nor types it when it is
// allocated. data[r:w] are queued bytes, data[w:] is free. A chunk keeps its
// buffer for life, in the pool too. data is a slice rather than an array
// pointer: slicing it needs no nil check, which would load the buffer's first
// cache line on every Append, a miss when many queues are being filled.
type chunk struct {
	next *chunk
	r, w int
	data []byte // len ChunkSize
}

// bytes returns the chunk's queued bytes.
func (c *chunk) bytes() []byte { return c.data[c.r:c.w] }

// pool recycles chunks among all queues of the process: writers on any
// goroutine take them, whoever empties a chunk gives it back.
var pool = sync.Pool{New: func() any { return &chunk{data: make([]byte, ChunkSize)} }}

func getChunk() *chunk { return pool.Get().(*chunk) }

func putChunk(c *chunk) {
	c.next, c.r, c.w = nil, 0, 0
	pool.Put(c)
}

// releaseList returns a list of chunks to the pool.
func releaseList(c *chunk) {
	for c != nil {
		next := c.next
		putChunk(c)
		c = next
	}
}

// Queue is one connection's queued outbound bytes. The zero value is an empty
// queue holding no chunk. See the package documentation for who may call what
// while a write is under way.
type Queue struct {
	head, tail *chunk
	n          int // queued bytes
}

// Len returns the number of queued bytes; bytes of taken Batches no longer
// count.
func (q *Queue) Len() int { return q.n }

// Append copies p to the end of the queue, filling the last chunk before it
// takes a new one from the pool.
func (q *Queue) Append(p []byte) {
	for len(p) > 0 {
		t := q.tail
		if t == nil || t.w == len(t.data) {
			c := getChunk()
			if t == nil {
				q.head = c
			} else {
				t.next = c
			}
			q.tail, t = c, c
		}
		k := copy(t.data[t.w:], p)
		t.w += k
		q.n += k
		p = p[k:]
	}
}

// Consume drops the first n queued bytes, which the socket has taken, and
// returns the chunks it empties to the pool. n must not exceed the bytes last
// gathered.
func (q *Queue) Consume(n int) {
	q.n -= n
	for n > 0 {
		c := q.head
		k := min(n, c.w-c.r)
		c.r += k
		n -= k
		if c.r < c.w {
			break
		}
		q.head = c.next
		if q.head == nil {
			q.tail = nil
		}
		putChunk(c)
	}
}

// Release drops everything queued and returns every chunk to the pool,
// leaving an empty queue. Taken Batches are not affected.
func (q *Queue) Release() {
	releaseList(q.head)
	*q = Queue{}
}

// TakeAtMost detaches the oldest chunks as a Batch: the first chunk, and then
// as many of the next as keep the batch within limit bytes. It returns an
// empty Batch if the queue is empty.
func (q *Queue) TakeAtMost(limit int) Batch {
	first := q.head
	if first == nil {
		return Batch{}
	}
	if q.n <= limit {
		return q.takeAll()
	}
	last, n := first, first.w-first.r
	for last.next != nil && n+last.next.w-last.next.r <= limit {
		last = last.next
		n += last.w - last.r
	}
	return q.detach(last, n)
}

// TakeAtLeast detaches the oldest chunks as a Batch: as few as hold at least
// n bytes, or all of them if fewer are queued. Whole chunks leave, so the
// batch may hold more than n bytes: those appended to its last chunk after
// the caller counted n. It returns an empty Batch if n <= 0 or the queue is
// empty.
func (q *Queue) TakeAtLeast(n int) Batch {
	first := q.head
	if first == nil || n <= 0 {
		return Batch{}
	}
	if n > q.n-(q.tail.w-q.tail.r) { // the tail is needed: all of it
		return q.takeAll()
	}
	last, taken := first, first.w-first.r
	for taken < n && last.next != nil {
		last = last.next
		taken += last.w - last.r
	}
	return q.detach(last, taken)
}

// takeAll detaches every chunk in O(1), without reading them: a taker that
// holds the owner's lock while it takes keeps it short.
func (q *Queue) takeAll() Batch {
	b := Batch{head: q.head, n: q.n}
	*q = Queue{}
	return b
}

// detach unlinks the chunks from the head through last, which hold n bytes.
func (q *Queue) detach(last *chunk, n int) Batch {
	b := Batch{head: q.head, n: n}
	q.head = last.next
	if q.head == nil {
		q.tail = nil
	}
	last.next = nil
	q.n -= n
	return b
}

// Batch is a list of chunks taken from a Queue. It belongs to its taker
// alone: no Queue method touches it, so it may be read without the queue's
// lock. The zero value is an empty Batch.
type Batch struct {
	head *chunk
	n    int
}

// Len returns the number of bytes in the batch.
func (b *Batch) Len() int { return b.n }

// AppendSlices appends one slice per chunk of the batch, in order, to dst
// and returns it: a net.Buffers for writev, say. The slices point into the
// chunks and are valid until Release.
func (b *Batch) AppendSlices(dst [][]byte) [][]byte {
	for c := b.head; c != nil; c = c.next {
		dst = append(dst, c.bytes())
	}
	return dst
}

// CopyTo copies the batch's bytes, in order, to dst and returns how many it
// copied: Len, or len(dst) if that is less.
func (b *Batch) CopyTo(dst []byte) int {
	off := 0
	for c := b.head; c != nil && off < len(dst); c = c.next {
		off += copy(dst[off:], c.bytes())
	}
	return off
}

// Release returns the batch's chunks to the pool and empties the batch.
// Slices obtained from it must no longer be used.
func (b *Batch) Release() {
	releaseList(b.head)
	*b = Batch{}
}
