//go:build unix

package goroutine

import (
	"io"
	"net"
	"os"
	"syscall"
)

// rawReader reads through the connection's syscall.RawConn, so that it can
// wait for readability without a buffer: it takes a pooled buffer of
// Options.ReadBufferSize only when read(2) has bytes to give and returns it as
// soon as read(2) says the socket is drained (EAGAIN), right before parking
// in the netpoller. An idle connection holds no read buffer.
type rawReader struct {
	rc     syscall.RawConn
	pool   *bufferPool
	buf    *[]byte               // held from the first byte read until EAGAIN
	readFn func(fd uintptr) bool // r.readOnce, built once so that reads do not allocate

	n   int   // readOnce's result: bytes read,
	err error // or why reading ended
}

// newRawReader returns a raw reader, or false if nc does not expose its
// file descriptor.
func newRawReader(nc net.Conn, pool *bufferPool) (reader, bool) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, false
	}
	r := &rawReader{rc: rc, pool: pool}
	r.readFn = r.readOnce
	return r, true
}

func (r *rawReader) read() ([]byte, error) {
	r.n, r.err = 0, nil
	if err := r.rc.Read(r.readFn); err != nil {
		return nil, err // closed, or the deadline Close sets
	}
	if r.err != nil {
		return nil, r.err
	}
	return (*r.buf)[:r.n], nil
}

// readOnce is the RawConn callback: it reads once into the held buffer and
// reports true, or releases the buffer and reports false on EAGAIN so that
// RawConn waits for readability and calls it again.
func (r *rawReader) readOnce(fd uintptr) bool {
	if r.buf == nil {
		r.buf = r.pool.get()
	}
	for {
		n, err := syscall.Read(int(fd), *r.buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			r.pool.put(r.buf)
			r.buf = nil
			return false
		case err != nil:
			r.err = os.NewSyscallError("read", err)
		case n == 0:
			r.err = io.EOF
		default:
			r.n = n
		}
		return true
	}
}

func (r *rawReader) release() {
	if r.buf != nil {
		r.pool.put(r.buf)
		r.buf = nil
	}
}
