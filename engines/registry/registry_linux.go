package registry

import (
	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/epoll"
	"github.com/pubsubx/pubsubx/engines/netpoll"
)

// platformEngines lists the Linux-only engines, in order of preference.
func platformEngines() []engines.Info {
	return []engines.Info{
		{Name: epoll.Name, New: epoll.NewEngine},
		{Name: netpoll.Name, New: netpoll.NewEngine},
		// Further Linux-only engines are added here.
	}
}
