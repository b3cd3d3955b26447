//go:build !linux

package registry

import "github.com/pubsubx/pubsubx/engines"

// platformEngines: no OS-specific engines outside Linux.
func platformEngines() []engines.Info { return nil }
