//go:build linux

package netpoll

import (
	"testing"

	"github.com/pubsubx/pubsubx/engines/enginetest"
)

// TestConformance runs the engine conformance suite on this engine.
func TestConformance(t *testing.T) { enginetest.Run(t, NewEngine) }
