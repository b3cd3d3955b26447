//go:build linux

package epoll

import "github.com/pubsubx/pubsubx/engines"

// Test hooks into the engine's counters; they read atomics, so they are safe
// while the engine runs.

// WakeupWrites returns the eventfd writes made so far, over all loops.
func WakeupWrites(e engines.Engine) uint64 {
	var n uint64
	for _, l := range e.(*engine).loops {
		n += l.wakeCount.Load()
	}
	return n
}

// LoopWakeupWrites returns the eventfd writes made so far to loop i.
func LoopWakeupWrites(e engines.Engine, i int) uint64 {
	return e.(*engine).loops[i].wakeCount.Load()
}

// Writevs returns the writev calls made so far, over all loops.
func Writevs(e engines.Engine) uint64 {
	var n uint64
	for _, l := range e.(*engine).loops {
		n += l.writevs.Load()
	}
	return n
}

// LoopOf returns the index of the loop that owns c.
func LoopOf(c engines.Conn) int { return c.(*conn).loop.index }

// Loops returns the number of loops of e.
func Loops(e engines.Engine) int { return len(e.(*engine).loops) }

// Iterations returns how often the loops have returned from epoll_wait.
func Iterations(e engines.Engine) uint64 {
	var n uint64
	for _, l := range e.(*engine).loops {
		n += l.iterations.Load()
	}
	return n
}
