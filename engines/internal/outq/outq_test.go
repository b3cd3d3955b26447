package outq

import (
	"bytes"
	"fmt"
	"testing"
)

// stream returns n bytes of the sequence byte(i % 251) from offset on, so a
// shifted, repeated or lost piece shows up as a difference.
func stream(offset, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((offset + i) % 251)
	}
	return b
}

// checkQueue fails t unless q's chunk list is well formed: no empty chunk,
// only the head consumed from, only the tail not full, the counts right, and
// no chunk at all once empty.
func checkQueue(t *testing.T, q *Queue) {
	t.Helper()
	if (q.head == nil) != (q.tail == nil) || (q.head == nil) != (q.n == 0) {
		t.Fatalf("head %p, tail %p, %d bytes: an empty queue holds no chunk, a non-empty one has both ends", q.head, q.tail, q.n)
	}
	sum := 0
	for c := q.head; c != nil; c = c.next {
		switch {
		case c.r >= c.w:
			t.Fatalf("chunk with r=%d, w=%d in the queue: empty chunks go back to the pool", c.r, c.w)
		case c != q.head && c.r != 0:
			t.Fatalf("chunk after the head consumed from (r=%d)", c.r)
		case c != q.tail && c.w != ChunkSize:
			t.Fatalf("chunk before the tail not full (w=%d): appends must fill chunks", c.w)
		case c.next == nil && c != q.tail:
			t.Fatal("the list's last chunk is not the tail")
		}
		sum += c.w - c.r
	}
	if sum != q.n {
		t.Fatalf("chunks hold %d bytes, Len says %d", sum, q.n)
	}
}

// batchBytes returns a copy of b's bytes, read both ways a taker may read
// them, and checks they agree with Len.
func batchBytes(t *testing.T, b *Batch) []byte {
	t.Helper()
	joined := bytes.Join(b.AppendSlices(nil), nil)
	copied := make([]byte, b.Len()+10)
	copied = copied[:b.CopyTo(copied)]
	if len(joined) != b.Len() || !bytes.Equal(joined, copied) {
		t.Fatalf("batch of Len %d: slices hold %d bytes, CopyTo gave %d, or they differ", b.Len(), len(joined), len(copied))
	}
	return joined
}

func chunkCount(c *chunk) int {
	n := 0
	for ; c != nil; c = c.next {
		n++
	}
	return n
}

// Small appends share chunks: 64-byte messages fill each chunk before the
// next one is started, so memory stays close to the bytes queued.
func TestAppendFillsChunks(t *testing.T) {
	var q Queue
	msg := bytes.Repeat([]byte("0123456789abcdef"), 4)
	for range 1000 {
		q.Append(msg)
	}
	checkQueue(t, &q)
	if got, want := chunkCount(q.head), (1000*len(msg)+ChunkSize-1)/ChunkSize; got != want {
		t.Fatalf("64,000 bytes in %d chunks, want %d", got, want)
	}
	q.Release()
	if q != (Queue{}) {
		t.Fatalf("Release left %+v", q)
	}
	q.Append([]byte("x")) // a released queue works again
	if b := q.TakeAtMost(1); string(batchBytes(t, &b)) != "x" {
		t.Fatal("a released queue did not take a new append")
	}
}

// TakeAtMost hands out the queue in order, in batches within the limit
// unless one chunk alone is larger, and leaves no chunk behind.
func TestTakeAtMost(t *testing.T) {
	want := stream(0, 10*ChunkSize+123)
	for _, limit := range []int{0, 1, ChunkSize, ChunkSize + 1, 3 * ChunkSize, 1 << 30} {
		var q Queue
		q.Append(want[:100]) // a partly filled chunk, then full ones
		q.Append(want[100:])
		var got []byte
		for q.Len() > 0 {
			before := q.Len()
			b := q.TakeAtMost(limit)
			if b.Len() > limit && chunkCount(b.head) > 1 {
				t.Fatalf("limit %d: batch of %d bytes in %d chunks", limit, b.Len(), chunkCount(b.head))
			}
			if next := q.head; next != nil && b.Len()+next.w-next.r <= limit {
				t.Fatalf("limit %d: batch of %d bytes left out a %d-byte chunk that fits", limit, b.Len(), next.w-next.r)
			}
			if q.Len() != before-b.Len() {
				t.Fatalf("limit %d: Len %d after taking %d of %d", limit, q.Len(), b.Len(), before)
			}
			got = append(got, batchBytes(t, &b)...)
			b.Release()
			checkQueue(t, &q)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("limit %d: took %d bytes differing from the %d appended", limit, len(got), len(want))
		}
		if b := q.TakeAtMost(limit); b.Len() != 0 || b.head != nil {
			t.Fatalf("limit %d: took %d bytes from an empty queue", limit, b.Len())
		}
	}
}

// TakeAtLeast takes as few whole chunks as cover n bytes, bytes appended to
// the last of them before the take included.
func TestTakeAtLeast(t *testing.T) {
	var q Queue
	q.Append(stream(0, 100))
	counted := q.Len()          // the owner decides to take what is queued now
	q.Append(stream(100, 50))   // lands in the same chunk
	q.Append(stream(150, 5000)) // fills it and starts another
	if b := q.TakeAtLeast(0); b.Len() != 0 {
		t.Fatalf("TakeAtLeast(0) took %d bytes", b.Len())
	}
	b := q.TakeAtLeast(counted)
	if chunkCount(b.head) != 1 || b.Len() != ChunkSize {
		t.Fatalf("took %d bytes in %d chunks, want the first chunk (%d bytes)", b.Len(), chunkCount(b.head), ChunkSize)
	}
	got := batchBytes(t, &b)
	b.Release()
	checkQueue(t, &q)
	b = q.TakeAtLeast(1 << 30) // more than queued: everything
	got = append(got, batchBytes(t, &b)...)
	b.Release()
	if !bytes.Equal(got, stream(0, 5150)) || q.Len() != 0 {
		t.Fatalf("took %d bytes, %d left; want the 5150 appended and none", len(got), q.Len())
	}
	checkQueue(t, &q)
}

// A taken partly filled chunk is the taker's: appends after the take go to a
// new chunk, and releasing the queue leaves the batch alone.
func TestBatchIsDetached(t *testing.T) {
	var q Queue
	q.Append([]byte("abc"))
	b := q.TakeAtMost(1 << 20)
	q.Append([]byte("def"))
	if q.head == b.head {
		t.Fatal("append after the take went to the taken chunk")
	}
	q.Release()
	if got := string(batchBytes(t, &b)); got != "abc" {
		t.Fatalf("taken batch holds %q, want abc", got)
	}
	b.Release()
	if b != (Batch{}) {
		t.Fatalf("Release left %+v", b)
	}
}

// assertNoAllocs fails t unless the steady state of a queue allocates
// nothing: 100 appends of a 64-byte message, then out, which moves
// everything queued out the way one of the engines does.
func assertNoAllocs(t *testing.T, out func(*Queue)) {
	t.Helper()
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	var q Queue
	msg := make([]byte, 64)
	run := func() {
		for range 100 {
			q.Append(msg)
		}
		out(&q)
	}
	for range 100 { // warm the pool
		run()
	}
	if allocs := testing.AllocsPerRun(1000, run); allocs != 0 {
		t.Fatalf("%v allocations per 100 appends and a write-out, want 0", allocs)
	}
}

// benchAppend appends 64-byte messages round-robin to queues queues, and
// moves each queue's bytes out with out after every 64 rounds, as the
// subscribers of a fan-out see them: with many queues, what an Append
// touches is no longer in cache. One op is one message to one queue.
func benchAppend(b *testing.B, out func(*Queue)) {
	for _, queues := range []int{1, 1000} {
		b.Run(fmt.Sprintf("queues=%d", queues), func(b *testing.B) {
			qs := make([]Queue, queues)
			msg := make([]byte, 64)
			const batch = 64
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				q := &qs[i%queues]
				q.Append(msg)
				if i/queues%batch == batch-1 {
					out(q)
				}
			}
			for i := range qs {
				qs[i].Release()
			}
		})
	}
}

// takeOut is the detached way out: take everything, read it as
// net.Buffers would, release it.
func takeOut() func(*Queue) {
	slices := make([][]byte, 0, 16)
	return func(q *Queue) {
		b := q.TakeAtLeast(q.Len())
		slices = b.AppendSlices(slices[:0])
		clear(slices)
		b.Release()
	}
}

// Steady-state detached use allocates nothing: the chunks come from the pool
// and go back to it.
func TestTakeAllocatesNothing(t *testing.T) { assertNoAllocs(t, takeOut()) }

// BenchmarkAppendTake is the detached path: appends, then take and release.
func BenchmarkAppendTake(b *testing.B) { benchAppend(b, takeOut()) }
