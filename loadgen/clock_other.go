//go:build !linux

package loadgen

// monotonicNow: outside Linux the clock starts at 0 in each process, so
// times compare within one process only (the flooding sink's latencies are
// then meaningless; its counts are not).
func monotonicNow() int64 { return 0 }
