package loadgen

import (
	"encoding/binary"
	"errors"
)

// HeaderSize is the size of the header at the start of every payload the
// loadgen publishes; payloads are padded with zeros to the message size.
const HeaderSize = 48

// Header is the loadgen's payload header. Every field is little-endian at
// a fixed offset, so that a flooding sink can patch pre-encoded packets:
//
//	offset size field
//	     0    8 Seq        sequence number within the stream, from 0
//	     8    8 PubSeq     sequence number within the publisher, from 0
//	    16    4 Publisher  publisher index
//	    20    4 Stream     stream index: one (publisher, topic) pair
//	    24    4 Fanout     receivers the loadgen expects for this message
//	    28    4 Flags      FlagMeasured
//	    32    8 Intended   when the message was due (Now clock, ns)
//	    40    8 Sent       when it was actually handed to the client (ns)
//
// Intended is the open-loop schedule's time, so latency measured from it
// includes any delay of the sender (no coordinated omission); Sent minus
// Intended is the publisher's lag.
type Header struct {
	Seq       uint64
	PubSeq    uint64
	Publisher uint32
	Stream    uint32
	Fanout    uint32
	Flags     uint32
	Intended  int64
	Sent      int64
}

// FlagMeasured marks a message sent inside the measurement window (after
// the warm-up); only such messages are recorded in the histograms.
const FlagMeasured = 1

// Offsets of the header fields that a sender rewrites for each message.
const (
	offSeq      = 0
	offPubSeq   = 8
	offIntended = 32
	offSent     = 40
)

// ErrShortPayload is returned by DecodeHeader for a payload shorter than
// HeaderSize.
var ErrShortPayload = errors.New("loadgen: payload shorter than the loadgen header")

// Put writes h into the first HeaderSize bytes of p, which must be at least
// that long.
func (h *Header) Put(p []byte) {
	le := binary.LittleEndian
	_ = p[HeaderSize-1]
	le.PutUint64(p[offSeq:], h.Seq)
	le.PutUint64(p[offPubSeq:], h.PubSeq)
	le.PutUint32(p[16:], h.Publisher)
	le.PutUint32(p[20:], h.Stream)
	le.PutUint32(p[24:], h.Fanout)
	le.PutUint32(p[28:], h.Flags)
	le.PutUint64(p[offIntended:], uint64(h.Intended))
	le.PutUint64(p[offSent:], uint64(h.Sent))
}

// DecodeHeader reads the header at the start of p.
func DecodeHeader(p []byte, h *Header) error {
	if len(p) < HeaderSize {
		return ErrShortPayload
	}
	le := binary.LittleEndian
	h.Seq = le.Uint64(p[offSeq:])
	h.PubSeq = le.Uint64(p[offPubSeq:])
	h.Publisher = le.Uint32(p[16:])
	h.Stream = le.Uint32(p[20:])
	h.Fanout = le.Uint32(p[24:])
	h.Flags = le.Uint32(p[28:])
	h.Intended = int64(le.Uint64(p[offIntended:]))
	h.Sent = int64(le.Uint64(p[offSent:]))
	return nil
}
