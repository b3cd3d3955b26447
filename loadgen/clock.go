package loadgen

import "time"

// The loadgen's clock. Now returns nanoseconds on one monotonic clock that
// every loadgen process on the machine shares (CLOCK_MONOTONIC on Linux),
// so that the flooding sink, running as another process, stamps times the
// subscribers can compare with their own. It is read through Go's
// monotonic clock (no system call): a time.Time is mapped onto it by Mono.

var (
	clockBase     = time.Now()
	clockBaseMono = monotonicNow()
)

// Now returns the current time on the loadgen's monotonic clock, in ns.
func Now() int64 { return clockBaseMono + int64(time.Since(clockBase)) }

// Mono maps t, which must carry a monotonic reading (as time.Now's results
// and client.Message.ReceivedAt do), onto the loadgen's clock.
func Mono(t time.Time) int64 { return clockBaseMono + int64(t.Sub(clockBase)) }
