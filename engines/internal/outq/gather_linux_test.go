package outq

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// iovBytes copies what iov points at, as writev would read it.
func iovBytes(dst []byte, iov []unix.Iovec) []byte {
	for _, v := range iov {
		dst = append(dst, unsafe.Slice(v.Base, v.Len)...)
	}
	return dst
}

// runOps runs prog, a program of queue operations, on a Queue and on a
// bytes.Buffer holding what the queue should hold, and fails t at the first
// difference. Each operation is an opcode byte and 16-bit arguments; a short
// program ends early.
func runOps(t *testing.T, prog []byte) {
	t.Helper()
	var q Queue
	var model bytes.Buffer
	offset := 0 // stream offset of the next byte appended
	iov := make([]unix.Iovec, 4)
	arg := func() int {
		if len(prog) < 2 {
			prog = nil
			return 0
		}
		v := int(binary.LittleEndian.Uint16(prog))
		prog = prog[2:]
		return v
	}
	defer q.Release()
	for step := 0; len(prog) > 0; step++ {
		op := prog[0] % 6
		prog = prog[1:]
		switch op {
		case 0, 1: // append up to three chunks' worth, empty included
			p := stream(offset, arg()%(3*ChunkSize+1))
			offset += len(p)
			q.Append(p)
			model.Write(p)
		case 2: // gather into 1 to 4 iovecs, write part of it, consume that
			entries, n := q.Gather(iov[:1+arg()%len(iov)])
			got := iovBytes(nil, iov[:entries])
			clear(iov)
			if len(got) != n || !bytes.HasPrefix(model.Bytes(), got) || (n == 0) != (model.Len() == 0) {
				t.Fatalf("step %d: gathered %d bytes (said %d) of %d queued, not the queue's head", step, len(got), n, model.Len())
			}
			k := arg() % (n + 1)
			q.Consume(k)
			model.Next(k)
		case 3, 4: // take at most or at least a limit
			limit, before := 4*arg(), q.Len()
			var b Batch
			if op == 3 {
				b = q.TakeAtMost(limit)
			} else {
				b = q.TakeAtLeast(limit)
			}
			checkTake(t, step, op == 3, limit, before, &b)
			if got := batchBytes(t, &b); !bytes.Equal(got, model.Next(b.Len())) {
				t.Fatalf("step %d: batch of %d bytes is not the queue's head", step, b.Len())
			}
			b.Release()
		case 5: // now and then, drop everything
			if arg()%8 == 0 {
				q.Release()
				model.Reset()
			}
		}
		if q.Len() != model.Len() {
			t.Fatalf("step %d (op %d): Len %d, want %d", step, op, q.Len(), model.Len())
		}
		checkQueue(t, &q)
	}
}

// checkTake checks the size of a batch taken from a queue of before bytes.
func checkTake(t *testing.T, step int, atMost bool, limit, before int, b *Batch) {
	t.Helper()
	if before > 0 && b.Len() == 0 && (atMost || limit > 0) {
		t.Fatalf("step %d: took nothing from %d queued bytes", step, before)
	}
	lastLen := 0
	for c := b.head; c != nil; c = c.next {
		lastLen = c.w - c.r
	}
	switch {
	case atMost && b.Len() > limit && chunkCount(b.head) > 1:
		t.Fatalf("step %d: TakeAtMost(%d) took %d bytes in several chunks", step, limit, b.Len())
	case !atMost && b.Len() < min(limit, before):
		t.Fatalf("step %d: TakeAtLeast(%d) took %d of %d bytes", step, limit, b.Len(), before)
	case !atMost && b.Len()-lastLen >= limit && b.Len() > 0:
		t.Fatalf("step %d: TakeAtLeast(%d) took %d bytes, a chunk more than needed", step, limit, b.Len())
	}
}

// Random programs against the model: appends of every size, partial writes,
// takes of every size, releases.
func TestQueueMatchesModel(t *testing.T) {
	programs := 300
	if testing.Short() {
		programs = 50
	}
	for seed := range uint64(programs) {
		rng := rand.New(rand.NewPCG(seed, 7))
		prog := make([]byte, 1200)
		for i := range prog {
			prog[i] = byte(rng.Uint32())
		}
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runOps(t, prog) })
	}
}

// FuzzQueue runs runOps on fuzzed programs:
//
//	go test -fuzz=FuzzQueue -fuzztime=30s ./engines/internal/outq/
func FuzzQueue(f *testing.F) {
	f.Add([]byte{0, 0xff, 0x10, 2, 3, 0, 0x40, 0})
	f.Add([]byte{1, 0xa8, 0x0f, 1, 0xa8, 0x0f, 3, 1, 0, 4, 0xff, 0xff, 2, 0, 0, 0xff, 0xff})
	f.Add([]byte{0, 1, 0, 4, 1, 0, 0, 0xff, 0x2f, 5, 0, 0, 2, 3, 0, 7, 0})
	f.Fuzz(func(t *testing.T, prog []byte) { runOps(t, prog) })
}

// Records of the concurrency tests: writer id (1 byte), sequence number (4),
// payload length (2), payload derived from the three.
func appendRecord(dst []byte, writer byte, seq uint32, size int) []byte {
	dst = append(dst, writer)
	dst = binary.BigEndian.AppendUint32(dst, seq)
	dst = binary.BigEndian.AppendUint16(dst, uint16(size))
	for i := range size {
		dst = append(dst, byte(int(writer)*31+int(seq)*7+i))
	}
	return dst
}

// checkRecords parses out and checks that each writer's records are whole
// and in order, perWriter of them.
func checkRecords(t *testing.T, out []byte, writers, perWriter int) {
	t.Helper()
	next := make([]uint32, writers)
	for len(out) > 0 {
		if len(out) < 7 {
			t.Fatalf("%d bytes left, less than a record header", len(out))
		}
		w, seq, size := out[0], binary.BigEndian.Uint32(out[1:]), int(binary.BigEndian.Uint16(out[5:]))
		if int(w) >= writers || seq != next[w] || len(out) < 7+size {
			t.Fatalf("record %d of writer %d (%d bytes): want record %d, whole", seq, w, size, next[min(int(w), writers-1)])
		}
		if want := appendRecord(nil, w, seq, size); !bytes.Equal(out[:7+size], want) {
			t.Fatalf("record %d of writer %d corrupt", seq, w)
		}
		next[w]++
		out = out[7+size:]
	}
	for w, n := range next {
		if int(n) != perWriter {
			t.Fatalf("writer %d: %d records out, want %d", w, n, perWriter)
		}
	}
}

// appendRecords appends n records of writer w to q under mu, most small,
// some spanning chunks.
func appendRecords(q *Queue, mu *sync.Mutex, w byte, n int) {
	rng := rand.New(rand.NewPCG(uint64(w), 3))
	var rec []byte
	for seq := range uint32(n) {
		size := rng.IntN(200)
		if rng.IntN(50) == 0 {
			size = rng.IntN(3 * ChunkSize)
		}
		rec = appendRecord(rec[:0], w, seq, size)
		mu.Lock()
		q.Append(rec)
		mu.Unlock()
	}
}

// concurrentStream has four goroutines append records to one queue under a
// mutex while drain, on the test's goroutine, moves bytes out as an engine's
// writer does, outside the mutex between its calls; every record must come
// out whole and in order. Run it with -race: it checks the package's
// concurrency rules.
func concurrentStream(t *testing.T, drain func(q *Queue, mu *sync.Mutex, rng *rand.Rand, out []byte) []byte) {
	const writers = 4
	perWriter := 3000
	if testing.Short() {
		perWriter = 500
	}
	var mu sync.Mutex
	var q Queue
	var wg sync.WaitGroup
	var done atomic.Bool
	for w := range writers {
		wg.Go(func() { appendRecords(&q, &mu, byte(w), perWriter) })
	}
	go func() { wg.Wait(); done.Store(true) }()
	rng := rand.New(rand.NewPCG(9, 9))
	var out []byte
	deadline := time.Now().Add(time.Minute) // a broken queue never drains
	for {
		if time.Now().After(deadline) {
			t.Fatalf("queue not drained after a minute: %d bytes out", len(out))
		}
		finished := done.Load()
		out = drain(&q, &mu, rng, out)
		mu.Lock()
		empty := q.Len() == 0
		mu.Unlock()
		if finished && empty {
			break
		}
		runtime.Gosched()
	}
	checkRecords(t, out, writers, perWriter)
	checkQueue(t, &q)
}

// In place, as the epoll engine writes: Gather under the mutex, "writev"
// outside it while appends go on (reading every gathered byte twice, to see
// that none changes), then Consume what a partial write took.
func TestGatherWhileAppending(t *testing.T) {
	iov := make([]unix.Iovec, 8)
	var first, second []byte
	concurrentStream(t, func(q *Queue, mu *sync.Mutex, rng *rand.Rand, out []byte) []byte {
		mu.Lock()
		entries, n := q.Gather(iov)
		mu.Unlock()
		first = iovBytes(first[:0], iov[:entries])
		runtime.Gosched()
		second = iovBytes(second[:0], iov[:entries])
		clear(iov)
		if len(first) != n || !bytes.Equal(first, second) {
			t.Fatalf("gathered bytes changed while appends ran")
		}
		k := n
		if rng.IntN(3) == 0 {
			k = rng.IntN(n + 1) // a partial write
		}
		mu.Lock()
		q.Consume(k)
		mu.Unlock()
		return append(out, first[:k]...)
	})
}

// Detached, as the netpoll and goroutine engines write: take under the
// mutex, read and release the batch outside it while appends go on.
func TestTakeWhileAppending(t *testing.T) {
	var slices [][]byte
	concurrentStream(t, func(q *Queue, mu *sync.Mutex, rng *rand.Rand, out []byte) []byte {
		mu.Lock()
		var b Batch
		if rng.IntN(2) == 0 {
			b = q.TakeAtMost(rng.IntN(4 * ChunkSize))
		} else {
			b = q.TakeAtLeast(q.Len())
		}
		mu.Unlock()
		slices = b.AppendSlices(slices[:0])
		for _, s := range slices {
			out = append(out, s...)
		}
		clear(slices)
		b.Release()
		return out
	})
}

// gatherOut is the in-place way out: gather everything (as for writev),
// then consume it.
func gatherOut() func(*Queue) {
	iov := make([]unix.Iovec, 256)
	return func(q *Queue) {
		entries, n := q.Gather(iov)
		clear(iov[:entries])
		q.Consume(n)
	}
}

// Steady-state in-place use allocates nothing.
func TestGatherAllocatesNothing(t *testing.T) { assertNoAllocs(t, gatherOut()) }

// BenchmarkAppendGatherConsume is the in-place path: appends, then one gather
// and consume, as around a writev.
func BenchmarkAppendGatherConsume(b *testing.B) { benchAppend(b, gatherOut()) }
