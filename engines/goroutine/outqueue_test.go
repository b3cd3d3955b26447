package goroutine

import (
	"bytes"
	"testing"
)

// TestOutQueue: small Writes share chunks even across seals, a big Write spans
// chunks, takeSealed hands over exactly the sealed chunks in order, and the
// bytes come out as they went in.
func TestOutQueue(t *testing.T) {
	var q outQueue
	var want []byte
	write := func(p []byte) {
		q.append(p)
		want = append(want, p...)
	}
	msg := bytes.Repeat([]byte("0123456789abcdef"), 4) // 64 bytes
	for i := range 1000 {
		write(msg)
		if i%10 == 0 {
			q.seal() // a Flush between Writes must not start a new chunk
		}
	}
	if got, max := len(q.chunks), 1000*len(msg)/chunkSize+1; got > max {
		t.Fatalf("64,000 bytes in %d chunks, want at most %d", got, max)
	}
	big := bytes.Repeat([]byte{0xAB}, 3*chunkSize+100)
	write(big)

	sealedBefore := q.sealed
	taken := q.takeSealed(nil)
	if len(taken) != sealedBefore || q.sealed != 0 {
		t.Fatalf("took %d chunks, %d left sealed; want %d and 0", len(taken), q.sealed, sealedBefore)
	}
	write([]byte("after the take"))
	q.seal()
	taken = q.takeSealed(taken)
	if len(q.chunks) != 0 {
		t.Fatalf("%d chunks left after taking all", len(q.chunks))
	}
	var got []byte
	for _, chunk := range taken {
		if cap(chunk) != chunkSize {
			t.Fatalf("chunk of capacity %d, want %d", cap(chunk), chunkSize)
		}
		got = append(got, chunk...)
		putChunk(chunk)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("queue gave back %d bytes differing from the %d written", len(got), len(want))
	}
}

// TestOutQueueDrop: drop empties the queue and a dropped queue works again.
func TestOutQueueDrop(t *testing.T) {
	var q outQueue
	q.append(make([]byte, 2*chunkSize))
	q.seal()
	q.drop()
	if len(q.chunks) != 0 || q.sealed != 0 {
		t.Fatalf("after drop: %d chunks, %d sealed", len(q.chunks), q.sealed)
	}
	q.append([]byte("x"))
	q.seal()
	if taken := q.takeSealed(nil); len(taken) != 1 || string(taken[0]) != "x" {
		t.Fatalf("after drop, took %q", taken)
	}
}
