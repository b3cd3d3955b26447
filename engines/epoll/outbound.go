//go:build linux

package epoll

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// chunkSize is the size of one pooled outbound chunk, header included, so a
// chunk fills exactly one 4 KiB size class of the Go allocator.
const chunkSize = 4096

// chunk is one link of a connection's outbound queue: data[r:w] is queued
// and not yet taken by the socket.
type chunk struct {
	next *chunk
	r, w int
	data [chunkSize - 3*8]byte
}

var _ [0]struct{} = [unsafe.Sizeof(chunk{}) - chunkSize]struct{}{} // chunk fits its size class

// chunkPool recycles chunks among all loops and writers, so steady-state
// fan-out allocates nothing. Writers on any goroutine take chunks from it;
// the owning loop gives them back once the socket has taken their bytes.
var chunkPool = sync.Pool{New: func() any { return new(chunk) }}

func getChunk() *chunk { return chunkPool.Get().(*chunk) }

func putChunk(c *chunk) {
	c.next, c.r, c.w = nil, 0, 0
	chunkPool.Put(c)
}

// outQueue is a connection's queued outbound bytes: a singly linked list of
// chunks, nil when empty, so an idle connection holds no buffer. Guarded by
// the owning conn's mutex, except that while the loop's writev is under way
// writers may fill the tail chunk beyond the bytes handed to the kernel:
// gather captures data[r:w] and writers only touch data[w:].
type outQueue struct {
	head, tail *chunk
	n          int // queued bytes
}

// append copies p to the end of the queue, taking chunks from the pool.
func (q *outQueue) append(p []byte) {
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

// gather points iov at the queued bytes, one entry per chunk, as many chunks
// as iov holds. It returns the entries used and the bytes they cover.
func (q *outQueue) gather(iov []unix.Iovec) (entries, bytes int) {
	for c := q.head; c != nil && entries < len(iov); c = c.next {
		n := c.w - c.r
		iov[entries].Base = &c.data[c.r]
		iov[entries].SetLen(n)
		entries++
		bytes += n
	}
	return entries, bytes
}

// consume drops the first n bytes, which the socket has taken, and returns
// emptied chunks to the pool. n never exceeds the bytes last gathered.
func (q *outQueue) consume(n int) {
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

// release drops everything queued, returning every chunk to the pool.
func (q *outQueue) release() {
	for c := q.head; c != nil; {
		next := c.next
		putChunk(c)
		c = next
	}
	*q = outQueue{}
}
