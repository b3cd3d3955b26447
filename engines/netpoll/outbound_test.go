//go:build linux

package netpoll

import (
	"bytes"
	"testing"
)

// drain takes everything from q in hand-offs of at most limit bytes (beyond
// the first chunk) and returns the bytes in order.
func drain(t *testing.T, q *outbound, limit int) []byte {
	t.Helper()
	var got []byte
	for {
		list, n := q.take(limit)
		if list == nil {
			return got
		}
		sum := 0
		for c := list; c != nil; c = c.next {
			got = append(got, c.data[:c.n]...)
			sum += c.n
		}
		if sum != n {
			t.Fatalf("take reported %d bytes, list holds %d", n, sum)
		}
		if n > limit && list.next != nil {
			t.Fatalf("take returned %d bytes in several chunks, limit %d", n, limit)
		}
		q.written(n)
		releaseChunks(list)
	}
}

func TestOutboundOrderAcrossChunks(t *testing.T) {
	var q outbound
	var want []byte
	for i := range 300 {
		p := bytes.Repeat([]byte{byte(i)}, i*37%5000)
		q.append(p)
		want = append(want, p...)
	}
	if q.size() != len(want) {
		t.Fatalf("size %d, want %d", q.size(), len(want))
	}
	for _, limit := range []int{1, chunkBytes, 3 * chunkBytes, maxHandOff} {
		var r outbound
		r.append(want)
		if got := drain(t, &r, limit); !bytes.Equal(got, want) {
			t.Fatalf("limit %d: drained %d bytes differing from the %d appended", limit, len(got), len(want))
		}
		if r.size() != 0 || r.head != nil || r.tail != nil {
			t.Fatalf("limit %d: queue not empty after draining: %+v", limit, r)
		}
	}
}

func TestOutboundInFlightCounts(t *testing.T) {
	var q outbound
	q.append(make([]byte, 10000))
	list, n := q.take(maxHandOff)
	if n != 10000 || q.size() != 10000 || q.queued != 0 {
		t.Fatalf("after take: n=%d size=%d queued=%d; in-flight bytes must still count", n, q.size(), q.queued)
	}
	q.append(make([]byte, 5))
	q.discard()
	if q.size() != 10000 {
		t.Fatalf("discard dropped in-flight bytes: size %d", q.size())
	}
	q.written(n)
	releaseChunks(list)
	if q.size() != 0 {
		t.Fatalf("size %d after the flusher reported, want 0", q.size())
	}
}

func TestOutboundAppendAfterTake(t *testing.T) {
	var q outbound
	q.append([]byte("abc")) // a partly filled tail chunk
	list, _ := q.take(maxHandOff)
	q.append([]byte("def")) // must not touch the taken chunk
	if got := string(list.data[:list.n]); got != "abc" {
		t.Fatalf("taken chunk holds %q, want abc", got)
	}
	if got := string(drain(t, &q, maxHandOff)); got != "def" {
		t.Fatalf("queue holds %q, want def", got)
	}
	releaseChunks(list)
}
