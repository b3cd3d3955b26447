//go:build linux

package epoll

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// gatherBytes copies what gather points at, as writev would.
func gatherBytes(q *outQueue, iov []unix.Iovec) []byte {
	entries, n := q.gather(iov)
	out := make([]byte, 0, n)
	for _, v := range iov[:entries] {
		out = append(out, unsafe.Slice(v.Base, v.Len)...)
	}
	return out
}

// The queue hands out exactly the bytes appended, in order, across chunk
// boundaries, whatever the sizes of appends and of partial writes, and
// holds no chunk once drained.
func TestOutQueueRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var q outQueue
	var want []byte              // appended, not yet consumed
	iov := make([]unix.Iovec, 3) // small, so gather is often cut short
	next := 0
	for round := range 2000 {
		for range rng.IntN(4) {
			p := make([]byte, rng.IntN(3*len(chunk{}.data)))
			for i := range p {
				p[i] = byte(next)
				next++
			}
			q.append(p)
			want = append(want, p...)
		}
		if q.n != len(want) {
			t.Fatalf("round %d: n = %d, want %d", round, q.n, len(want))
		}
		got := gatherBytes(&q, iov)
		if !bytes.Equal(got, want[:len(got)]) {
			t.Fatalf("round %d: gathered bytes differ from the queue's head", round)
		}
		if len(got) == 0 && len(want) > 0 {
			t.Fatalf("round %d: gathered nothing from %d queued bytes", round, len(want))
		}
		taken := 0
		if len(got) > 0 {
			taken = rng.IntN(len(got) + 1)
		}
		q.consume(taken)
		want = want[taken:]
		if len(want) == 0 && (q.head != nil || q.tail != nil) {
			t.Fatalf("round %d: drained queue still holds chunks", round)
		}
	}
	q.release()
	if q != (outQueue{}) {
		t.Fatal("release left state behind")
	}
}
