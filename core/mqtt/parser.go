package mqtt

// MaxRemainingLength is the largest remaining length a fixed header can
// carry: a four-byte Variable Byte Integer [MQTT-2.2.3].
const MaxRemainingLength = 268435455

// maxPacketLen is the protocol's bound on a whole packet: the largest
// remaining length plus a five-byte fixed header.
const maxPacketLen = MaxRemainingLength + 5

// scratchKeep is the largest scratch array a Parser keeps for reuse once it
// is empty in the middle of a stream. Larger ones are released at once.
const scratchKeep = 512

// Parser splits a byte stream into MQTT control packets.
//
// Feed gives it the next chunk of the stream; Next then returns the chunk's
// packets one by one. A packet that lies within one chunk is returned as a
// slice of that chunk, without copying. Only the bytes of a packet split
// across chunks are copied, into a scratch buffer that grows with the bytes
// received (never past the packet's size, so a peer announcing a huge packet
// and sending little costs little); once
// the split packet is complete, the rest of the chunk is again parsed in
// place. The scratch buffer is released when it is empty and larger than a
// few hundred bytes, and whenever a chunk ends on a packet boundary, so an
// idle Parser holds no buffer: its cost is its own 80 bytes.
//
// The Parser checks the fixed header only: the type nibble (0 is reserved),
// the remaining length encoding and MaxPacketSize. Flags and contents are
// checked by CheckFlags and the Decode functions.
//
// Usage, once per chunk read from the network:
//
//	p.Feed(chunk)
//	for {
//		h, body, ok, err := p.Next()
//		if err != nil { /* close with Reason(err) */ }
//		if !ok { break } // chunk consumed: read the next one
//		/* CheckFlags, Decode*, handle; body is valid until the next Next */
//	}
//
// A Parser is not safe for concurrent use. The zero value is ready to use.
type Parser struct {
	// MaxPacketSize bounds a whole packet, fixed header included; 0 means
	// the protocol maximum (268435460 bytes). A packet announcing more
	// fails with ErrPacketTooLarge as soon as its fixed header is read,
	// before any of it is buffered.
	MaxPacketSize int

	chunk   []byte // unread rest of the chunk given to Feed
	scratch []byte // bytes of a packet split across chunks
	used    int    // leading bytes of scratch returned by the last Next, dropped at the next call
	err     error  // sticky: once set, the stream is unusable
}

// Feed hands the Parser the next chunk of the stream. The caller must not
// modify data until Next has returned ok=false or an error: complete packets
// are returned as slices of data, and only the bytes of a trailing partial
// packet are copied out of it.
//
// Feed is meant to be called once Next has consumed the previous chunk. If it
// is called earlier, the unread bytes of the previous chunk are copied and
// parsed before data, so nothing is lost.
func (p *Parser) Feed(data []byte) {
	if p.err != nil {
		return
	}
	p.recycle()
	if len(p.chunk) > 0 {
		p.scratch = append(p.scratch, p.chunk...)
	}
	p.chunk = data
}

// Next returns the next complete packet: its fixed header and its body, the
// Remaining bytes after the fixed header. body is valid until the next call
// of Next or Feed; its capacity is limited to its length, so appending to it
// never overwrites the stream.
//
// ok=false with a nil error means more input is needed; the bytes of a
// partial packet, and only those, have then been copied, so the chunk given
// to Feed is free for reuse. A non-nil error is an *Error (ErrMalformedLength,
// ErrPacketTooLarge or ErrReservedType); after it the stream is unusable and
// every later call returns the same error.
func (p *Parser) Next() (h FixedHeader, body []byte, ok bool, err error) {
	if p.err != nil {
		return h, nil, false, p.err
	}
	if p.used > 0 {
		p.recycle()
	}
	if len(p.scratch) > 0 {
		return p.nextSplit()
	}
	b := p.chunk
	h, n, err := p.header(b)
	if err != nil {
		return h, nil, false, p.fail(err)
	}
	if n == 0 || len(b)-n < h.Remaining {
		if len(b) == 0 {
			p.scratch = nil // idle between packets: hold no buffer
		} else {
			p.hold(b, n+h.Remaining)
		}
		p.chunk = nil
		return h, nil, false, nil
	}
	end := n + h.Remaining
	p.chunk = b[end:]
	return h, b[n:end:end], true, nil
}

// nextSplit completes the packet held in scratch from the current chunk.
func (p *Parser) nextSplit() (FixedHeader, []byte, bool, error) {
	for {
		h, n, err := p.header(p.scratch)
		if err != nil {
			return h, nil, false, p.fail(err)
		}
		if n == 0 { // the fixed header itself is split: move one more byte
			if len(p.chunk) == 0 {
				return h, nil, false, nil
			}
			p.scratch = append(p.scratch, p.chunk[0])
			p.chunk = p.chunk[1:]
			continue
		}
		end := n + h.Remaining
		if missing := end - len(p.scratch); missing > 0 {
			if len(p.chunk) < missing {
				p.hold(p.chunk, end)
				p.chunk = nil
				return h, nil, false, nil
			}
			p.hold(p.chunk[:missing], end)
			p.chunk = p.chunk[missing:]
		}
		p.used = end
		return h, p.scratch[n:end:end], true, nil
	}
}

// hold appends b to scratch. total, when known (not 0), is the size of the
// whole packet being held. Scratch grows by doubling, never past total and
// never to more than twice the bytes received.
func (p *Parser) hold(b []byte, total int) {
	need := len(p.scratch) + len(b)
	if need > cap(p.scratch) {
		size := max(need, 2*cap(p.scratch), 64)
		if total > 0 {
			size = min(size, total)
		}
		grown := make([]byte, len(p.scratch), size)
		copy(grown, p.scratch)
		p.scratch = grown
	}
	p.scratch = append(p.scratch, b...)
}

// recycle drops the packet returned from scratch by the last Next call, and
// releases a large scratch array once it is empty.
func (p *Parser) recycle() {
	if p.used == 0 {
		return
	}
	rest := copy(p.scratch, p.scratch[p.used:])
	p.scratch = p.scratch[:rest]
	p.used = 0
	if rest == 0 && cap(p.scratch) > scratchKeep {
		p.scratch = nil
	}
}

// header parses the fixed header at the start of b. n is its length, or 0
// when b does not hold all of it yet.
func (p *Parser) header(b []byte) (h FixedHeader, n int, err error) {
	if len(b) == 0 {
		return h, 0, nil
	}
	if b[0] < 0x10 {
		return h, 0, ErrReservedType
	}
	remaining := 0
	for i := 1; i < len(b); i++ {
		c := b[i]
		remaining |= int(c&0x7f) << (7 * (i - 1))
		if c < 0x80 {
			if c == 0 && i > 1 {
				return h, 0, ErrMalformedLength // not the shortest form [MQTT-1.5.5-1]
			}
			if p.MaxPacketSize > 0 && i+1+remaining > p.MaxPacketSize {
				return h, 0, ErrPacketTooLarge
			}
			return FixedHeader{Type: Type(b[0] >> 4), Flags: b[0] & 0x0f, Remaining: remaining}, i + 1, nil
		}
		if i == 4 {
			return h, 0, ErrMalformedLength
		}
	}
	return h, 0, nil
}

func (p *Parser) fail(err error) error {
	p.err = err
	p.chunk, p.scratch, p.used = nil, nil, 0
	return err
}

// Buffered returns the number of bytes of a split packet the Parser holds.
func (p *Parser) Buffered() int { return len(p.scratch) - p.used }

// Reset drops all state, including a sticky error, and releases the scratch
// buffer. MaxPacketSize is kept.
func (p *Parser) Reset() { *p = Parser{MaxPacketSize: p.MaxPacketSize} }

// AppendVarint appends n as a Variable Byte Integer [MQTT-1.5.5]. n must be
// in [0, MaxRemainingLength].
func AppendVarint(dst []byte, n int) []byte {
	for n >= 0x80 {
		dst = append(dst, byte(n)|0x80)
		n >>= 7
	}
	return append(dst, byte(n))
}

// VarintSize returns the encoded size of n as a Variable Byte Integer.
func VarintSize(n int) int {
	switch {
	case n < 1<<7:
		return 1
	case n < 1<<14:
		return 2
	case n < 1<<21:
		return 3
	}
	return 4
}

// readVarint decodes a Variable Byte Integer at the start of b, returning
// its value and the rest of b.
func readVarint(b []byte) (int, []byte, error) {
	n := 0
	for i := 0; i < len(b) && i < 4; i++ {
		c := b[i]
		n |= int(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c == 0 && i > 0 {
				return 0, nil, ErrMalformedLength
			}
			return n, b[i+1:], nil
		}
	}
	if len(b) < 4 {
		return 0, nil, errTruncated
	}
	return 0, nil, ErrMalformedLength
}
