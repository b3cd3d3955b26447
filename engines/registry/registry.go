// Package registry is the ordered list of PubSubX's I/O engines. The first
// entry is the default. Adding an engine is one folder under engines/ plus one
// line here (or in the platform file for OS-specific engines).
package registry

import (
	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/goroutine"
)

// All returns the engines available on this platform, default first. The
// slice is fresh on every call.
func All() []engines.Info {
	return append(platformEngines(), engines.Info{Name: goroutine.Name, New: goroutine.NewEngine})
}

// Names returns the names of All, in order.
func Names() []string {
	var names []string
	for _, e := range All() {
		names = append(names, e.Name)
	}
	return names
}

// Lookup finds an engine by name.
func Lookup(name string) (engines.Info, bool) {
	for _, e := range All() {
		if e.Name == name {
			return e, true
		}
	}
	return engines.Info{}, false
}

// Default returns the name of the default engine on this platform.
func Default() string { return All()[0].Name }
