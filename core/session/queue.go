package session

// Queue is a bounded FIFO of deliveries waiting for a session: messages routed
// while its client is away, or while the client cannot take more (in-flight
// window full, outbound queue full). The zero value is an empty queue with no
// bounds; set MaxLen and MaxBytes before use. Memory is a ring that grows by
// doubling up to MaxLen entries and is released when the queue empties.
type Queue struct {
	// MaxLen bounds the number of queued deliveries; 0 means no bound.
	MaxLen int
	// MaxBytes bounds the sum of the queued messages' Size; 0 means no bound.
	MaxBytes int

	ring  []Delivery
	head  int // index of the oldest entry
	n     int // entries in use
	bytes int
}

// Len returns the number of queued deliveries.
func (q *Queue) Len() int { return q.n }

// Bytes returns the summed Size of the queued messages.
func (q *Queue) Bytes() int { return q.bytes }

// Push appends d, or returns false when a bound would be exceeded (nothing is
// queued; the caller counts the drop).
func (q *Queue) Push(d Delivery) bool {
	if q.MaxLen > 0 && q.n >= q.MaxLen {
		return false
	}
	if q.MaxBytes > 0 && q.n > 0 && q.bytes+d.Msg.Size > q.MaxBytes {
		return false
	}
	if q.n == len(q.ring) {
		q.grow()
	}
	q.ring[(q.head+q.n)%len(q.ring)] = d
	q.n++
	q.bytes += d.Msg.Size
	return true
}

// Peek returns the oldest delivery; ok is false when the queue is empty.
func (q *Queue) Peek() (d Delivery, ok bool) {
	if q.n == 0 {
		return Delivery{}, false
	}
	return q.ring[q.head], true
}

// Pop removes and returns the oldest delivery.
func (q *Queue) Pop() (d Delivery, ok bool) {
	if q.n == 0 {
		return Delivery{}, false
	}
	d = q.ring[q.head]
	q.ring[q.head] = Delivery{} // drop references for the GC
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	q.bytes -= d.Msg.Size
	if q.n == 0 {
		q.ring, q.head = nil, 0
	}
	return d, true
}

// Clear drops every queued delivery and returns how many there were.
func (q *Queue) Clear() int {
	n := q.n
	q.ring, q.head, q.n, q.bytes = nil, 0, 0, 0
	return n
}

func (q *Queue) grow() {
	size := 2 * len(q.ring)
	if size == 0 {
		size = 8
	}
	if q.MaxLen > 0 && size > q.MaxLen {
		size = q.MaxLen
	}
	ring := make([]Delivery, size)
	for i := 0; i < q.n; i++ {
		ring[i] = q.ring[(q.head+i)%len(q.ring)]
	}
	q.ring, q.head = ring, 0
}
