package loadgen

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/pubsubx/pubsubx/core/client"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

// publisher is one publishing client and its streams. Its send method runs
// on the goroutine driving it (Drive); the atomic counters are read by the
// status line and the runner; lag is read by the runner after the driving
// goroutine has ended.
type publisher struct {
	idx     int
	c       *client.Client // nil for an external publisher
	topics  []string
	streams []uint32 // stream index of each topic
	fanout  []uint32 // receivers of each topic
	seq     []uint64 // next sequence number of each topic's stream
	pick    func() int
	payload []byte
	qos     mqtt.QoS
	tracker *fanoutTracker // nil when no topic has more than one receiver
	lag     *hdrhistogram.Histogram

	pubSeq   uint64
	buffered int // messages since the last flush

	// Measurement window of the current phase, on the Now clock.
	windowStart, windowEnd int64

	// Closed loop (max rate): at most window deliveries in flight.
	window   int64
	received atomic.Int64 // deliveries of this publisher's messages, counted in closed loop
	waiting  atomic.Bool
	wake     chan struct{}
	stalls   int64 // window waits that timed out (deliveries missing)
	blocked  int64 // ns spent in publishes and flushes the broker held up

	sent     atomic.Int64 // messages sent, ever
	expected atomic.Int64 // deliveries expected for them, ever
}

// flushEvery bounds the QoS 1 and 2 messages buffered between flushes,
// well under any broker's Receive Maximum, so that a wait for a free slot
// never waits on a message still in this client's buffer.
const flushEvery = 32

func newPublisher(idx int, spec PublisherSpec, streams, fanout []uint32, size int, qos mqtt.QoS, seed uint64) *publisher {
	p := &publisher{
		idx: idx, topics: spec.Topics, streams: streams, fanout: fanout,
		seq: make([]uint64, len(spec.Topics)), payload: make([]byte, size), qos: qos,
		lag: NewHistogram(), wake: make(chan struct{}, 1),
	}
	for _, f := range fanout {
		if f > 1 {
			p.tracker = newFanoutTracker()
			break
		}
	}
	n := len(spec.Topics)
	switch {
	case n == 1:
		p.pick = func() int { return 0 }
	case spec.Zipf > 1:
		z := rand.NewZipf(rand.New(rand.NewPCG(seed, uint64(idx))), spec.Zipf, 1, uint64(n-1))
		p.pick = func() int { return int(z.Uint64()) }
	default:
		next := 0
		p.pick = func() int { next = (next + 1) % n; return next }
	}
	return p
}

// setClosedLoop makes the publisher keep at most window deliveries in
// flight (0: open loop).
func (p *publisher) setClosedLoop(window int) { p.window = int64(window) }

// send publishes message n (the Drive callback).
func (p *publisher) send(n uint64, intended int64) error {
	t := p.pick()
	if p.window > 0 {
		if err := p.awaitWindow(); err != nil {
			return err
		}
	}
	h := Header{
		Seq: p.seq[t], PubSeq: p.pubSeq, Publisher: uint32(p.idx), Stream: p.streams[t],
		Fanout: p.fanout[t], Intended: intended,
	}
	measured := intended >= p.windowStart && intended < p.windowEnd
	if measured {
		h.Flags = FlagMeasured
	}
	if p.tracker != nil && h.Fanout > 1 {
		p.tracker.sent(h.PubSeq, h.Fanout, intended, measured)
	}
	h.Sent = Now()
	h.Put(p.payload)
	_, err := p.c.PublishAsync(context.Background(), p.topics[t], p.payload, client.PublishOptions{QoS: p.qos})
	p.noteBlocked(h.Sent)
	if err != nil {
		return err
	}
	if measured {
		record(p.lag, h.Sent-intended)
	}
	p.seq[t]++
	p.pubSeq++
	p.sent.Add(1)
	p.expected.Add(int64(h.Fanout))
	if p.buffered++; p.qos > 0 && p.buffered >= flushEvery {
		return p.flush()
	}
	return nil
}

// flush writes the buffered messages.
func (p *publisher) flush() error {
	p.buffered = 0
	t := Now()
	err := p.c.Flush()
	p.noteBlocked(t)
	return err
}

// blockedThreshold is the length from which a publish or flush counts as
// blocked by the broker: a write system call takes microseconds, unless
// the socket's buffer is full because the broker is not reading (or a
// QoS 1/2 message waits for a slot the broker has not freed).
const blockedThreshold = int64(200 * time.Microsecond)

// noteBlocked adds the time since t to p.blocked if it is that long.
func (p *publisher) noteBlocked(t int64) {
	if d := Now() - t; d >= blockedThreshold {
		p.blocked += d
	}
}

// windowTimeout bounds a closed-loop wait: deliveries that never come
// (lost messages) must not stop the run.
const windowTimeout = time.Second

// awaitWindow waits until at most window deliveries of this publisher's
// messages are still to come.
func (p *publisher) awaitWindow() error {
	need := p.expected.Load() - p.window
	if p.received.Load() >= need {
		return nil
	}
	if err := p.flush(); err != nil {
		return err
	}
	deadline := time.Now().Add(windowTimeout)
	timer := time.NewTimer(time.Millisecond)
	defer timer.Stop()
	for p.received.Load() < need {
		if time.Now().After(deadline) {
			p.stalls++
			return nil
		}
		p.waiting.Store(true)
		if p.received.Load() < need {
			timer.Reset(time.Millisecond)
			select {
			case <-p.wake:
			case <-timer.C:
			}
		}
		p.waiting.Store(false)
	}
	return nil
}
