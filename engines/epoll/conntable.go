//go:build linux

package epoll

// connTable finds a loop's conns by descriptor. It is a slice indexed by
// descriptor rather than a map: the kernel hands out the lowest free
// numbers, so the slice stays dense, and an idle connection costs one
// pointer here instead of a map entry. Loop goroutine only.
type connTable struct {
	byFD []*conn
	n    int // conns held
}

// get returns the conn of descriptor fd, or nil.
func (t *connTable) get(fd int) *conn {
	if fd < 0 || fd >= len(t.byFD) {
		return nil
	}
	return t.byFD[fd]
}

// put records c under its descriptor.
func (t *connTable) put(c *conn) {
	if c.fd >= len(t.byFD) {
		grown := make([]*conn, max(c.fd+1, 2*len(t.byFD), 64))
		copy(grown, t.byFD)
		t.byFD = grown
	}
	if t.byFD[c.fd] == nil {
		t.n++
	}
	t.byFD[c.fd] = c
}

// remove forgets descriptor fd.
func (t *connTable) remove(fd int) {
	if t.get(fd) != nil {
		t.byFD[fd] = nil
		t.n--
	}
}

// all returns the table's slots, nil where no conn is held; removing
// conns while ranging over it is safe.
func (t *connTable) all() []*conn { return t.byFD }
