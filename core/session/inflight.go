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
// that order on reconnect [MQTT-4.4.0-1]). The zero value is empty with a
// window of 65,535; memory is released whenever the table empties.
type Inflight struct {
	// Window bounds the messages in flight: the client's Receive Maximum
	// (MQTT 5) or the broker's in-flight limit. 0 means 65,535.
	Window int

	entries []Outflight // send order; ID 0 marks an acknowledged entry
	base    int         // absolute position of entries[0]
	index   map[uint16]int
	nextID  uint16
}

// Len returns the messages in flight.
func (f *Inflight) Len() int { return len(f.index) }

// Full reports whether the window is used up.
func (f *Inflight) Full() bool {
	w := f.Window
	if w <= 0 || w > 65535 {
		w = 65535
	}
	return len(f.index) >= w
}

// Add assigns a free packet identifier to d, records it as sent and returns
// the identifier. The caller checks Full first; Add on a full table returns 0.
func (f *Inflight) Add(d Delivery) uint16 {
	if f.Full() {
		return 0
	}
	if f.index == nil {
		f.index = make(map[uint16]int)
	}
	id := f.nextID
	for {
		id++
		if id == 0 {
			id = 1
		}
		if _, used := f.index[id]; !used {
			break
		}
	}
	f.nextID = id
	phase := AwaitPuback
	if d.QoS == 2 {
		phase = AwaitPubrec
	}
	f.index[id] = f.base + len(f.entries)
	f.entries = append(f.entries, Outflight{ID: id, Phase: phase, Delivery: d})
	return id
}

// Get returns the entry for id.
func (f *Inflight) Get(id uint16) (*Outflight, bool) {
	pos, ok := f.index[id]
	if !ok {
		return nil, false
	}
	return &f.entries[pos-f.base], true
}

// Release removes id (PUBACK, PUBCOMP, or a PUBREC with an error code) and
// returns whether it was in flight.
func (f *Inflight) Release(id uint16) bool {
	pos, ok := f.index[id]
	if !ok {
		return false
	}
	delete(f.index, id)
	f.entries[pos-f.base] = Outflight{}
	for len(f.entries) > 0 && f.entries[0].ID == 0 {
		f.entries = f.entries[1:]
		f.base++
	}
	switch {
	case len(f.index) == 0:
		f.entries, f.base = nil, 0
	case len(f.entries) > 2*len(f.index)+32:
		f.compact()
	}
	return true
}

// compact drops acknowledged entries stuck behind an unacknowledged one.
func (f *Inflight) compact() {
	live := make([]Outflight, 0, len(f.index))
	for _, e := range f.entries {
		if e.ID != 0 {
			f.index[e.ID] = len(live)
			live = append(live, e)
		}
	}
	f.entries, f.base = live, 0
}

// Each calls fn for every entry in send order; fn may change the entry's
// Phase but must not add or release entries.
func (f *Inflight) Each(fn func(e *Outflight)) {
	for i := range f.entries {
		if f.entries[i].ID != 0 {
			fn(&f.entries[i])
		}
	}
}

// Clear drops every entry and returns how many there were.
func (f *Inflight) Clear() int {
	n := len(f.index)
	f.entries, f.base, f.index = nil, 0, nil
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
