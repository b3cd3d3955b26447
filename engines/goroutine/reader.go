package goroutine

import "net"

// reader reads one connection's bytes into buffers it manages. Only the
// connection's reader goroutine uses it.
type reader interface {
	// read waits for bytes and returns them, or an error: io.EOF when the
	// peer closed, or what ended the read (such as the deadline Close sets).
	// The bytes are valid until the next read or release.
	read() ([]byte, error)
	// release returns the reader's pooled buffers; read is not called again.
	release()
}

// newReader picks the raw reader where the platform and the connection allow,
// and the portable blocking reader elsewhere.
func (c *conn) newReader() reader {
	if !c.eng.portableReads {
		if r, ok := newRawReader(c.nc, &c.eng.readBuffers); ok {
			return r
		}
	}
	return newBlockingReader(c.nc, &c.eng.readBuffers)
}

// smallReadSize is the blocking reader's own buffer, used while reads are
// small: enough for pings, acks and small publishes.
const smallReadSize = 1 << 10

// blockingReader is the portable reader: it blocks in net.Conn.Read on a small
// buffer of its own and switches to a pooled buffer of Options.ReadBufferSize
// while reads fill the buffer they are given (data is arriving faster than it
// is read); the first read that does not fill it switches back.
type blockingReader struct {
	nc      net.Conn
	pool    *bufferPool
	small   []byte
	big     *[]byte // pooled, held while wantBig
	wantBig bool    // the last read filled its buffer
}

func newBlockingReader(nc net.Conn, pool *bufferPool) *blockingReader {
	return &blockingReader{nc: nc, pool: pool, small: make([]byte, min(smallReadSize, pool.size))}
}

func (r *blockingReader) read() ([]byte, error) {
	// Switch buffers here, not after the previous read: its bytes were in use
	// until now.
	switch {
	case r.wantBig && r.big == nil:
		r.big = r.pool.get()
	case !r.wantBig && r.big != nil:
		r.pool.put(r.big)
		r.big = nil
	}
	buf := r.small
	if r.big != nil {
		buf = *r.big
	}
	n, err := r.nc.Read(buf)
	r.wantBig = n == len(buf)
	return buf[:n], err
}

func (r *blockingReader) release() {
	if r.big != nil {
		r.pool.put(r.big)
		r.big = nil
	}
}
