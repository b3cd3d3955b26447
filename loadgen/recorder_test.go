package loadgen

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/client"
	"github.com/pubsubx/pubsubx/core/mqtt"
)

func TestStreamTracking(t *testing.T) {
	var s streamState
	var c recorderCounts
	for _, seq := range []uint64{0, 1, 2, 5, 3, 3, 6, 4, 100} {
		s.track(seq, false, &c)
	}
	// 3 and 4 came late (filling the gap 3-4), the second 3 is a duplicate.
	if c.Reordered != 2 || c.Duplicates != 1 || s.next != 101 {
		t.Errorf("reordered %d duplicates %d next %d; want 2, 1, 101", c.Reordered, c.Duplicates, s.next)
	}
	// Beyond the 64 remembered: a DUP-flagged redelivery is a duplicate,
	// anything else came late.
	s.track(10, true, &c)
	s.track(11, false, &c)
	if c.Duplicates != 2 || c.Reordered != 3 {
		t.Errorf("old arrivals: duplicates %d reordered %d; want 2, 3", c.Duplicates, c.Reordered)
	}
}

func putHeader(p []byte, h Header) { h.Put(p) }

// testMessage returns a message as the client hands it to the Handler,
// with a loadgen header (stream 0 of publisher 0, measured).
func testMessage(size int) *client.Message {
	m := &client.Message{Publish: mqtt.Publish{Topic: []byte("t"), Payload: make([]byte, size)}, ReceivedAt: time.Now()}
	h := Header{Fanout: 2, Flags: FlagMeasured, Intended: Now() - 1000, Sent: Now()}
	h.Put(m.Payload)
	return m
}

// newTestRecorder returns a recorder of one stream of one publisher with
// two receivers.
func newTestRecorder() *recorder {
	p := newPublisher(0, PublisherSpec{Topics: []string{"t"}}, []uint32{0}, []uint32{2}, 64, 0, 1)
	return newRecorder(&control{pubs: []*publisher{p}}, 1)
}

// TestRecorderHandle: in-order messages are counted and measured, a
// message without a header is malformed, a stream out of range too.
func TestRecorderHandle(t *testing.T) {
	r := newTestRecorder()
	m := testMessage(64)
	for seq := range uint64(10) {
		putHeader(m.Payload, Header{Seq: seq, PubSeq: seq, Fanout: 2, Flags: FlagMeasured, Intended: Now()})
		r.handle(m)
	}
	r.handle(&client.Message{Publish: mqtt.Publish{Payload: []byte("short")}})
	putHeader(m.Payload, Header{Stream: 7})
	r.handle(m)
	r.flushRun()
	if r.counts.Measured != 10 || r.counts.Malformed != 2 || r.delivered.Load() != 12 || r.latency.TotalCount() != 10 {
		t.Errorf("counts %+v, delivered %d, latencies %d", r.counts, r.delivered.Load(), r.latency.TotalCount())
	}
	if _, incomplete, untracked := r.ctl.pubs[0].tracker.take(); incomplete != 0 || untracked != 10 {
		t.Errorf("tracker: %d incomplete, %d untracked; want the 10 unregistered arrivals untracked", incomplete, untracked)
	}
}

// TestRecorderAllocs: receiving a message allocates nothing.
func TestRecorderAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	r := newTestRecorder()
	m := testMessage(64)
	var seq uint64
	allocs := testing.AllocsPerRun(1000, func() {
		putHeader(m.Payload, Header{Seq: seq, PubSeq: seq, Fanout: 2, Flags: FlagMeasured, Intended: Now()})
		seq++
		r.handle(m)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per message, want 0", allocs)
	}
}

// BenchmarkRecorderHandle is the loadgen's own cost per delivered message
// (on top of the client's reader): header, sequence, histogram, counters.
func BenchmarkRecorderHandle(b *testing.B) {
	r := newTestRecorder()
	m := testMessage(64)
	var seq uint64
	for b.Loop() {
		binary.LittleEndian.PutUint64(m.Payload[offSeq:], seq)
		binary.LittleEndian.PutUint64(m.Payload[offPubSeq:], seq)
		seq++
		r.handle(m)
	}
}
