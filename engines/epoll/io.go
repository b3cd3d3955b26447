//go:build linux

package epoll

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// maxWriteRounds bounds the writev calls of one flush while writers keep
// adding to the queue; a queue still not empty after them is finished on
// EPOLLOUT, which keeps one busy connection from starving the loop.
const maxWriteRounds = 4

// read does one read into the loop's buffer and hands the bytes to the
// handler. One read per readiness event keeps the loop fair; level-triggered
// epoll reports the conn again while bytes remain.
func (l *loop) read(c *conn) {
	if c.closed.Load() {
		return // Close was called; the pending phase closes it
	}
	n, err := unix.Read(c.fd, l.readBuf)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
	case err != nil:
		l.finalize(c, os.NewSyscallError("read", err), false)
	case n == 0:
		l.finalize(c, io.EOF, true)
	default:
		if herr := c.handler.OnData(l.readBuf[:n]); herr != nil {
			l.finalize(c, herr, true)
		}
	}
}

// flush writes what c has queued as far as the socket takes it and arms or
// disarms EPOLLOUT accordingly. It reports whether c is still open.
func (l *loop) flush(c *conn) bool {
	drained, err := l.writeOut(c)
	if err == nil && drained != !c.writeArmed {
		events := uint32(readWriteEvents)
		if drained {
			events = readEvents
		}
		err = l.poller.modify(c.fd, events)
		c.writeArmed = !drained
	}
	if err != nil {
		l.finalize(c, err, false)
		return false
	}
	return true
}

// writeOut writes c's queue with writev until it is empty, the socket is
// full or maxWriteRounds calls are made. drained reports an empty queue; err
// is a socket error. The conn's mutex is not held during the system call:
// writers append meanwhile, past the bytes handed to the kernel.
func (l *loop) writeOut(c *conn) (drained bool, err error) {
	for range maxWriteRounds {
		c.mu.Lock()
		entries, bytes := c.out.Gather(l.iov)
		c.mu.Unlock()
		if bytes == 0 {
			return true, nil
		}
		n, err := writev(c.fd, l.iov[:entries])
		l.writevs.Add(1)
		clear(l.iov[:entries]) // drop references to chunks
		switch err {
		case nil:
		case unix.EAGAIN, unix.EINTR:
			n = 0
		default:
			return false, os.NewSyscallError("writev", err)
		}
		c.mu.Lock()
		c.out.Consume(n)
		left := c.out.Len()
		c.mu.Unlock()
		if left == 0 {
			return true, nil
		}
		if n < bytes {
			return false, nil // socket full
		}
	}
	return false, nil
}

// finalize closes c on its loop: it makes Write, Flush and Close fail,
// writes what is queued as far as the socket takes it when flushFirst is
// set, unregisters and closes the descriptor, returns the queue's chunks and
// calls OnClose(err) last. When it flushes for a close the peer did not
// start, it then reads and drops input the peer sent meanwhile: closing a
// socket with unread input makes the kernel send a reset, which can destroy
// the bytes just written before the peer reads them.
func (l *loop) finalize(c *conn, err error, flushFirst bool) {
	c.closed.Store(true)
	if flushFirst {
		_, _ = l.writeOut(c)
		if err != io.EOF {
			l.dropInput(c.fd)
		}
	}
	_ = l.poller.remove(c.fd)
	l.conns.remove(c.fd)
	l.release(c)
	c.handler.OnClose(err)
}

// dropInput reads and discards what is waiting on fd, a bounded number of
// reads, never blocking.
func (l *loop) dropInput(fd int) {
	for range 4 {
		if n, _ := unix.Read(fd, l.readBuf); n <= 0 {
			return
		}
	}
}
