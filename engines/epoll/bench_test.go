//go:build linux

package epoll_test

import (
	"testing"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/enginetest"
	"github.com/pubsubx/pubsubx/engines/epoll"
)

// BenchmarkFanOut measures fan-out through the engine alone, on one loop
// (run it with -cpu 1 to put the whole process on one core); see
// enginetest.BenchmarkFanOut. Besides msgs/s it reports the eventfd writes
// per op (wake-ups: zero from=ondata, where the loop flushes its own
// connections) and the writev calls per delivered message.
func BenchmarkFanOut(b *testing.B) {
	enginetest.BenchmarkFanOut(b, enginetest.FanOut{
		Engine:  epoll.Name,
		New:     epoll.NewEngine,
		Options: engines.Options{Loops: 1},
		Counters: []enginetest.Counter{
			{Unit: "wakeups/op", Read: epoll.WakeupWrites},
			{Unit: "writevs/msg", Read: epoll.Writevs, PerDelivery: true},
		},
	})
}
