package loadgen

import (
	"sync"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// fanoutTracker measures the last-subscriber latency of one publisher's
// messages: for each message, the time until every receiver has it. The
// publisher registers each message (sent); subscribers report runs of
// consecutive messages that arrived in one read (arrived). Messages live in
// a ring indexed by the publisher's sequence number: a message still
// incomplete when its slot is reused (lost, or later than a ring's worth of
// messages) is counted as incomplete, an arrival for a message no longer in
// the ring as untracked.
//
// It is safe for concurrent use: every method takes the tracker's lock,
// once per message for the publisher and once per run for a subscriber.
type fanoutTracker struct {
	mu         sync.Mutex
	slots      []fanoutSlot
	mask       uint64
	hist       *hdrhistogram.Histogram // measured messages only
	incomplete int64
	untracked  int64
}

type fanoutSlot struct {
	key      uint64 // PubSeq+1; 0 when empty
	want     uint32
	got      uint32
	measured bool
	intended int64
	last     int64 // latest arrival so far
}

// trackerSlots is the ring size: 65,536 messages.
const trackerSlots = 1 << 16

func newFanoutTracker() *fanoutTracker {
	return &fanoutTracker{slots: make([]fanoutSlot, trackerSlots), mask: trackerSlots - 1, hist: NewHistogram()}
}

// sent registers message pubSeq, expected by want receivers.
func (t *fanoutTracker) sent(pubSeq uint64, want uint32, intended int64, measured bool) {
	t.mu.Lock()
	s := &t.slots[pubSeq&t.mask]
	if s.key != 0 && s.got < s.want {
		t.incomplete++
	}
	*s = fanoutSlot{key: pubSeq + 1, want: want, measured: measured, intended: intended}
	t.mu.Unlock()
}

// arrived reports that messages first..first+n-1 reached one receiver at at.
func (t *fanoutTracker) arrived(first uint64, n uint32, at int64) {
	t.mu.Lock()
	for seq := first; seq < first+uint64(n); seq++ {
		s := &t.slots[seq&t.mask]
		if s.key != seq+1 {
			t.untracked++
			continue
		}
		s.got++
		s.last = max(s.last, at)
		if s.got == s.want && s.measured {
			record(t.hist, s.last-s.intended)
		}
	}
	t.mu.Unlock()
}

// take returns the phase's histogram and counts and starts afresh. The
// ring is kept: messages of the last phase may still complete.
func (t *fanoutTracker) take() (h *hdrhistogram.Histogram, incomplete, untracked int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h, incomplete, untracked = t.hist, t.incomplete, t.untracked
	t.hist, t.incomplete, t.untracked = NewHistogram(), 0, 0
	return h, incomplete, untracked
}
