//go:build linux

package epoll_test

import (
	"testing"

	"github.com/pubsubx/pubsubx/engines/enginetest"
	"github.com/pubsubx/pubsubx/engines/epoll"
)

// TestConformance runs the engine contract's conformance suite.
func TestConformance(t *testing.T) { enginetest.Run(t, epoll.NewEngine) }
