package registry

import "github.com/pubsubx/pubsubx/engines"

// platformEngines lists the Linux-only engines, in order of preference.
func platformEngines() []engines.Info {
	return []engines.Info{}
}
