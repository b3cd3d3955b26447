package goroutine_test

import (
	"testing"

	"github.com/pubsubx/pubsubx/engines/enginetest"
	"github.com/pubsubx/pubsubx/engines/goroutine"
)

// BenchmarkFanOut measures fan-out through the engine alone; see
// enginetest.BenchmarkFanOut.
func BenchmarkFanOut(b *testing.B) {
	enginetest.BenchmarkFanOut(b, enginetest.FanOut{Engine: goroutine.Name, New: goroutine.NewEngine})
}

// BenchmarkIdleConns measures the memory of idle connections, in a child
// process; see enginetest.BenchmarkIdleConns. Run it alone and once:
//
//	go test -run='^$' -bench=IdleConns -benchtime=1x ./engines/goroutine/
func BenchmarkIdleConns(b *testing.B) { enginetest.BenchmarkIdleConns(b, goroutine.Name) }

// TestIdleConnsServer is the server process of BenchmarkIdleConns; run alone
// it skips.
func TestIdleConnsServer(t *testing.T) { enginetest.IdleConnsServer(t, goroutine.NewEngine) }
