package outq

import "golang.org/x/sys/unix"

// Gather points iov at the queued bytes, one entry per chunk from the head,
// as many chunks as iov holds, for writev. It returns the entries used and
// the bytes they cover. The entries stay valid, and their bytes unchanged,
// until the next Consume, Release or Take, even while Append runs (see the
// package documentation); clear them afterwards so that they do not keep
// pooled chunks reachable.
func (q *Queue) Gather(iov []unix.Iovec) (entries, bytes int) {
	for c := q.head; c != nil && entries < len(iov); c = c.next {
		n := c.w - c.r
		iov[entries].Base = &c.data[c.r]
		iov[entries].SetLen(n)
		entries++
		bytes += n
	}
	return entries, bytes
}
