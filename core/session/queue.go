package session

// Queue is a bounded FIFO of deliveries waiting for a session: messages routed
// while its client is away, or while the client cannot take more (in-flight
// window full, outbound queue full). The zero value is an empty queue; it
// costs one pointer while empty, because a session that holds nothing must
// cost little (thousands of idle clients). Storage is a ring that grows by
// doubling up to the length bound and is released when the queue empties.
// The bounds are given to Push, so they live once in the broker's
// configuration rather than in every queue.
type Queue struct {
	r *ring // nil while empty
}

type ring struct {
	items []Delivery
	head  int // index of the oldest entry
	n     int // entries in use
	bytes int // summed Msg.Size
}

// Len returns the number of queued deliveries.
func (q *Queue) Len() int {
	if q.r == nil {
		return 0
	}
	return q.r.n
}

// Bytes returns the summed Size of the queued messages.
func (q *Queue) Bytes() int {
	if q.r == nil {
		return 0
	}
	return q.r.bytes
}

// Push appends d, or returns false when it would take the queue past maxLen
// deliveries or maxBytes bytes (0 means no bound); nothing is queued then and
// the caller counts the drop. An empty queue takes one message whatever its
// size, so a message larger than maxBytes is not refused for ever.
func (q *Queue) Push(d Delivery, maxLen, maxBytes int) bool {
	r := q.r
	if r == nil {
		r = &ring{}
		q.r = r
	}
	if maxLen > 0 && r.n >= maxLen {
		return false
	}
	if maxBytes > 0 && r.n > 0 && r.bytes+d.Msg.Size > maxBytes {
		return false
	}
	if r.n == len(r.items) {
		r.grow(maxLen)
	}
	r.items[(r.head+r.n)%len(r.items)] = d
	r.n++
	r.bytes += d.Msg.Size
	return true
}

// Peek returns the oldest delivery; ok is false when the queue is empty.
func (q *Queue) Peek() (d Delivery, ok bool) {
	if q.Len() == 0 {
		return Delivery{}, false
	}
	return q.r.items[q.r.head], true
}

// Pop removes and returns the oldest delivery.
func (q *Queue) Pop() (d Delivery, ok bool) {
	if q.Len() == 0 {
		return Delivery{}, false
	}
	r := q.r
	d = r.items[r.head]
	r.items[r.head] = Delivery{} // drop references for the GC
	r.head = (r.head + 1) % len(r.items)
	r.n--
	r.bytes -= d.Msg.Size
	if r.n == 0 {
		q.r = nil
	}
	return d, true
}

// Clear drops every queued delivery and returns how many there were.
func (q *Queue) Clear() int {
	n := q.Len()
	q.r = nil
	return n
}

func (r *ring) grow(maxLen int) {
	size := 2 * len(r.items)
	if size == 0 {
		size = 8
	}
	if maxLen > 0 && size > maxLen {
		size = maxLen
	}
	items := make([]Delivery, size)
	for i := 0; i < r.n; i++ {
		items[i] = r.items[(r.head+i)%len(r.items)]
	}
	r.items, r.head = items, 0
}
