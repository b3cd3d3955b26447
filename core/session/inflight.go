package session

// Phase is where an outbound QoS 1 or 2 message stands.
type Phase uint8

// Phases of an outbound message in flight.
const (
	AwaitPuback  Phase = iota + 1 // QoS 1: PUBLISH sent, waiting for PUBACK
	AwaitPubrec                   // QoS 2: PUBLISH sent, waiting for PUBREC
	AwaitPubcomp                  // QoS 2: PUBREL sent, waiting for PUBCOMP
)

// Outflight is one outbound message in flight.
type Outflight struct {
	ID    uint16
	Phase Phase
	// Resend marks an entry to send again (PUBLISH with DUP, or PUBREL) on
	// the session's new connection; cleared once written.
	Resend bool
	Delivery
}

// Inflight is the table of a session's outbound QoS 1 and 2 messages that the
// client has not fully acknowledged, in the order they were sent (resent in
// that order on reconnect [MQTT-4.4.0-1]). The zero value is empty; while
// empty it holds no storage. The window (the client's Receive Maximum, or
// the broker's in-flight limit) is given to Full and Add, so it lives with
// the connection rather than in every table.
type Inflight struct {
	t *inflightTable // nil while empty
}

type inflightTable struct {
	entries []Outflight // send order; ID 0 marks an acknowledged entry
	base    int         // absolute position of entries[0]
	index   map[uint16]int
	nextID  uint16 // identifiers start again from 1 once the table empties
}

// Len returns the messages in flight.
func (f *Inflight) Len() int {
	if f.t == nil {
		return 0
	}
	return len(f.t.index)
}

// Full reports whether window messages are in flight (a window of 0 or above
// 65,535 means 65,535).
func (f *Inflight) Full(window int) bool {
	if window <= 0 || window > 65535 {
		window = 65535
	}
	return f.Len() >= window
}

// Add assigns a free packet identifier to d, records it as sent and returns
// the identifier, or 0 when window messages are in flight already.
func (f *Inflight) Add(d Delivery, window int) uint16 {
	if f.Full(window) {
		return 0
	}
	if f.t == nil {
		f.t = &inflightTable{index: make(map[uint16]int)}
	}
	t := f.t
	id := t.nextID
	for {
		id++
		if id == 0 {
			id = 1
		}
		if _, used := t.index[id]; !used {
			break
		}
	}
	t.nextID = id
	phase := AwaitPuback
	if d.QoS == 2 {
		phase = AwaitPubrec
	}
	t.index[id] = t.base + len(t.entries)
	t.entries = append(t.entries, Outflight{ID: id, Phase: phase, Delivery: d})
	return id
}

// Get returns the entry for id.
func (f *Inflight) Get(id uint16) (*Outflight, bool) {
	if f.t == nil {
		return nil, false
	}
	pos, ok := f.t.index[id]
	if !ok {
		return nil, false
	}
	return &f.t.entries[pos-f.t.base], true
}

// Release removes id (PUBACK, PUBCOMP, or a PUBREC with an error code) and
// returns whether it was in flight.
func (f *Inflight) Release(id uint16) bool {
	t := f.t
	if t == nil {
		return false
	}
	pos, ok := t.index[id]
	if !ok {
		return false
	}
	delete(t.index, id)
	t.entries[pos-t.base] = Outflight{}
	for len(t.entries) > 0 && t.entries[0].ID == 0 {
		t.entries = t.entries[1:]
		t.base++
	}
	switch {
	case len(t.index) == 0:
		f.t = nil
	case len(t.entries) > 2*len(t.index)+32:
		t.compact()
	}
	return true
}

// compact drops acknowledged entries stuck behind an unacknowledged one.
func (t *inflightTable) compact() {
	live := make([]Outflight, 0, len(t.index))
	for _, e := range t.entries {
		if e.ID != 0 {
			t.index[e.ID] = len(live)
			live = append(live, e)
		}
	}
	t.entries, t.base = live, 0
}

// Each calls fn for every entry in send order; fn may change the entry's
// Phase and Resend but must not add or release entries.
func (f *Inflight) Each(fn func(e *Outflight)) {
	if f.t == nil {
		return
	}
	for i := range f.t.entries {
		if f.t.entries[i].ID != 0 {
			fn(&f.t.entries[i])
		}
	}
}

// Clear drops every entry and returns how many there were.
func (f *Inflight) Clear() int {
	n := f.Len()
	f.t = nil
	return n
}

// QoS2Received is the set of packet identifiers of inbound QoS 2 messages the
// broker has routed and acknowledged with PUBREC, awaiting the client's PUBREL
// [MQTT-4.3.3-10]. The zero value is empty; memory is released when it empties.
type QoS2Received struct {
	ids map[uint16]struct{}
}

// Len returns the identifiers held.
func (r *QoS2Received) Len() int { return len(r.ids) }

// Holds reports whether id is held (routed, awaiting PUBREL).
func (r *QoS2Received) Holds(id uint16) bool {
	_, ok := r.ids[id]
	return ok
}

// Add records id and reports whether it was new (a duplicate PUBLISH with the
// same id must not be routed again).
func (r *QoS2Received) Add(id uint16) bool {
	if _, dup := r.ids[id]; dup {
		return false
	}
	if r.ids == nil {
		r.ids = make(map[uint16]struct{})
	}
	r.ids[id] = struct{}{}
	return true
}

// Release removes id on PUBREL and reports whether it was held.
func (r *QoS2Received) Release(id uint16) bool {
	if _, ok := r.ids[id]; !ok {
		return false
	}
	delete(r.ids, id)
	if len(r.ids) == 0 {
		r.ids = nil
	}
	return true
}

// Clear forgets every identifier.
func (r *QoS2Received) Clear() { r.ids = nil }
