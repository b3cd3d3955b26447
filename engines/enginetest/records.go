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

// A record is a self-delimiting message with which the scenarios, and engines'
// own tests, check that concurrent Writes stay whole and in order: stream id
// (1 byte), sequence number (4 bytes), payload length (2 bytes), payload
// derived from the three.

// RecordHeaderLen is the size of a record's header: a record of size payload
// bytes is RecordHeaderLen+size bytes long.
const RecordHeaderLen = 7

// AppendRecord appends to dst the record seq of stream, with size payload
// bytes (at most 65535), and returns the extended slice.
func AppendRecord(dst []byte, stream byte, seq uint32, size int) []byte {
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
	var hdr [RecordHeaderLen]byte
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

// RecordReader reads records from a client connection and checks them. It
// is not safe for concurrent use.
type RecordReader struct {
	conn net.Conn
	r    *bufio.Reader
	next map[byte]uint32 // next sequence number expected per stream
}

// NewRecordReader returns a RecordReader of c that expects every stream to
// start at sequence number 0.
func NewRecordReader(c net.Conn) *RecordReader {
	return &RecordReader{conn: c, r: bufio.NewReaderSize(c, 64<<10), next: make(map[byte]uint32)}
}

// Expect reads n records within Timeout and checks that each is whole and
// that each stream's sequence numbers follow each other without gap or
// repeat. It may be called from any goroutine, one at a time.
func (rr *RecordReader) Expect(n int) error {
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
