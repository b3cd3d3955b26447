package enginetest

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"
)

// pattern returns n pseudo-random bytes determined by seed, so that a shifted,
// repeated or dropped piece of a stream shows up as a difference.
func pattern(n int, seed uint64) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	buf := make([]byte, n)
	rand.NewChaCha8(key).Read(buf)
	return buf
}

// A record is a self-delimiting message with which the scenarios check that
// concurrent Writes stay whole and in order: stream id (1 byte), sequence
// number (4 bytes), payload length (2 bytes), payload derived from the three.
const recordHeaderLen = 7

// appendRecord appends the record seq of stream, with size payload bytes.
func appendRecord(dst []byte, stream byte, seq uint32, size int) []byte {
	dst = append(dst, stream)
	dst = binary.BigEndian.AppendUint32(dst, seq)
	dst = binary.BigEndian.AppendUint16(dst, uint16(size))
	for i := range size {
		dst = append(dst, recordByte(stream, seq, i))
	}
	return dst
}

func recordByte(stream byte, seq uint32, i int) byte {
	return byte(int(stream)*31 + int(seq)*7 + i)
}

// readRecord reads one record from r and checks its payload.
func readRecord(r *bufio.Reader) (stream byte, seq uint32, err error) {
	var hdr [recordHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, 0, err
	}
	stream, seq = hdr[0], binary.BigEndian.Uint32(hdr[1:])
	size := int(binary.BigEndian.Uint16(hdr[5:]))
	for i := range size {
		b, err := r.ReadByte()
		if err != nil {
			return stream, seq, err
		}
		if b != recordByte(stream, seq, i) {
			return stream, seq, fmt.Errorf("record %d of stream %d: payload byte %d corrupt", seq, stream, i)
		}
	}
	return stream, seq, nil
}

// recordReader reads records from a client connection in order.
type recordReader struct {
	conn net.Conn
	r    *bufio.Reader
	next map[byte]uint32 // next sequence number expected per stream
}

func newRecordReader(c net.Conn) *recordReader {
	return &recordReader{conn: c, r: bufio.NewReader(c), next: make(map[byte]uint32)}
}

// expect reads n records within Timeout and checks that each stream's
// sequence numbers follow each other without gap or repeat.
func (rr *recordReader) expect(n int) error {
	rr.conn.SetReadDeadline(time.Now().Add(Timeout))
	for i := range n {
		stream, seq, err := readRecord(rr.r)
		if err != nil {
			return fmt.Errorf("record %d of %d: %w", i, n, err)
		}
		if want := rr.next[stream]; seq != want {
			return fmt.Errorf("stream %d: got record %d, want %d", stream, seq, want)
		}
		rr.next[stream]++
	}
	return nil
}
