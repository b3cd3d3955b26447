//go:build !unix

package goroutine

import "net"

// newRawReader: raw reads are implemented for Unix only; elsewhere every
// connection uses the blocking reader.
func newRawReader(net.Conn, *bufferPool) (reader, bool) { return nil, false }
