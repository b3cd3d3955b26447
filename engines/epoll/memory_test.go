//go:build linux

package epoll_test

import (
	"testing"

	"github.com/pubsubx/pubsubx/engines/enginetest"
	"github.com/pubsubx/pubsubx/engines/epoll"
)

// BenchmarkIdleConns measures what idle connections cost the server, in a
// child process; see enginetest.BenchmarkIdleConns. Run it alone and once:
//
//	go test ./engines/epoll/ -run='^$' -bench=IdleConns -benchtime=1x -idleconns=19000
func BenchmarkIdleConns(b *testing.B) { enginetest.BenchmarkIdleConns(b, epoll.Name) }

// TestIdleConnsServer is the server process of BenchmarkIdleConns; run alone
// it skips.
func TestIdleConnsServer(t *testing.T) { enginetest.IdleConnsServer(t, epoll.NewEngine) }
