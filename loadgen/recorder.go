package loadgen

import (
	"encoding/binary"
	"sync/atomic"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/pubsubx/pubsubx/core/client"
)

// recorder is one subscriber's measuring state. Its handle method is the
// client's Handler: it runs on the client's reader goroutine, one message
// at a time, and owns every field but delivered. It does per message only
// what sequence numbers and a histogram need (a handful of loads and
// compares, one histogram increment, one atomic add), so that one core
// takes in over ten million messages a second.
//
// Publication: handle ends with an atomic add to delivered, so a goroutine
// that loads delivered and sees a message counted also sees everything
// handle wrote for it (the runner reads the recorder only after the
// deliveries it expects are all counted, or after the client is closed).
// Between phases, when no delivery is in progress, the runner resets the
// per-phase state (resetPhase) and then stores a new number in
// control.phase; handle loads control.phase first, which orders the
// runner's reset before handle's writes.
type recorder struct {
	ctl *control

	streams []streamState // by stream index
	latency *hdrhistogram.Histogram
	queued  *hdrhistogram.Histogram // messages sent while this client was away (churn); nil until one comes
	counts  recorderCounts
	run     pendingRun
	// awayUntil is set by the churn loop before it reconnects this
	// subscriber: measured messages intended before it were queued by the
	// broker while the client was away.
	awayUntil int64

	delivered atomic.Int64 // every delivery ever, whatever the phase
	_         [56]byte     // keep recorders' counters on separate cache lines
}

// recorderCounts are a phase's per-subscriber counters.
type recorderCounts struct {
	Measured   int64 // deliveries of messages sent in the measurement window
	Duplicates int64
	Reordered  int64
	Malformed  int64 // payloads without a valid loadgen header
}

// streamState follows one stream's sequence numbers at one subscriber.
type streamState struct {
	next uint64 // the sequence number expected next
	seen uint64 // bit i set: next-1-i has arrived
}

// pendingRun is a run of consecutive messages of one publisher that
// arrived in one read, not yet reported to the publisher's fan-out tracker.
type pendingRun struct {
	t     *fanoutTracker
	first uint64
	n     uint32
	at    int64
}

// control is what the runner shares with every recorder.
type control struct {
	phase      atomic.Uint64
	pubs       []*publisher // by publisher index; read-only after Connect
	closedLoop bool         // max-rate: count receptions per publisher
}

func newRecorder(ctl *control, streams int) *recorder {
	return &recorder{ctl: ctl, streams: make([]streamState, streams), latency: NewHistogram()}
}

// handle is the subscriber's client.Handler.
func (r *recorder) handle(m *client.Message) {
	r.ctl.phase.Load() // acquire: the runner's resetPhase happened before
	p := m.Payload
	if len(p) < HeaderSize {
		r.counts.Malformed++
		r.delivered.Add(1)
		return
	}
	le := binary.LittleEndian
	stream := le.Uint32(p[20:])
	publisher := le.Uint32(p[16:])
	if int(stream) >= len(r.streams) || int(publisher) >= len(r.ctl.pubs) {
		r.counts.Malformed++
		r.delivered.Add(1)
		return
	}
	r.streams[stream].track(le.Uint64(p[offSeq:]), m.Dup, &r.counts)
	at := Mono(m.ReceivedAt)
	if le.Uint32(p[28:])&FlagMeasured != 0 {
		intended := int64(le.Uint64(p[offIntended:]))
		record(r.latency, at-intended)
		r.counts.Measured++
		if intended < r.awayUntil {
			if r.queued == nil {
				r.queued = NewHistogram()
			}
			record(r.queued, at-intended)
		}
	}
	pub := r.ctl.pubs[publisher]
	if pub.tracker != nil && le.Uint32(p[24:]) > 1 {
		r.noteArrival(pub.tracker, le.Uint64(p[offPubSeq:]), at)
	}
	if r.ctl.closedLoop {
		pub.received.Add(1)
		if pub.waiting.Load() {
			select {
			case pub.wake <- struct{}{}:
			default:
			}
		}
	}
	r.delivered.Add(1)
}

// track classifies message seq of the stream: in order, after a gap,
// late (filling a gap: reordered) or seen before (duplicate). The last 64
// sequence numbers are remembered exactly; older ones are duplicates when
// the broker flagged them DUP (a QoS 1 redelivery), otherwise reordered.
func (s *streamState) track(seq uint64, dup bool, c *recorderCounts) {
	switch {
	case seq == s.next:
		s.seen = s.seen<<1 | 1
		s.next++
	case seq > s.next:
		if gap := seq - s.next; gap < 63 {
			s.seen = s.seen<<(gap+1) | 1
		} else {
			s.seen = 1
		}
		s.next = seq + 1
	default:
		back := s.next - 1 - seq
		switch {
		case back < 64 && s.seen&(1<<back) != 0:
			c.Duplicates++
		case back < 64:
			s.seen |= 1 << back
			c.Reordered++
		case dup:
			c.Duplicates++
		default:
			c.Reordered++
		}
	}
}

// noteArrival extends the pending run or reports it and starts another.
func (r *recorder) noteArrival(t *fanoutTracker, pubSeq uint64, at int64) {
	run := &r.run
	if run.t == t && run.at == at && pubSeq == run.first+uint64(run.n) {
		run.n++
		return
	}
	r.flushRun()
	*run = pendingRun{t: t, first: pubSeq, n: 1, at: at}
}

// flushRun reports the pending run to its tracker.
func (r *recorder) flushRun() {
	if run := &r.run; run.t != nil {
		run.t.arrived(run.first, run.n, run.at)
		*run = pendingRun{}
	}
}

// resetPhase clears the per-phase state (the stream positions carry on).
// The runner calls it between phases.
func (r *recorder) resetPhase() {
	r.flushRun()
	clearHistogram(r.latency)
	clearHistogram(r.queued)
	r.counts = recorderCounts{}
}
