//go:build linux

package netpoll

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"

	cloudwego "github.com/cloudwego/netpoll"

	"github.com/pubsubx/pubsubx/engines"
)

// ProcessConfig is cloudwego/netpoll's process-wide configuration: its
// pollers, buffers and callback runner are shared by every netpoll user in the
// process. The first NewEngine sets it (cloudwego.Configure); later engines
// reuse it whatever their Options say (see Settings.Requested).
type ProcessConfig struct {
	// Pollers is the number of netpoll poller goroutines, each with its own
	// epoll instance: Options.Loops, or runtime.GOMAXPROCS(0) when that is 0
	// (netpoll's own default would be GOMAXPROCS/20+1).
	Pollers int `json:"pollers"`
	// BufferSize is the initial size of each connection's input buffer and of
	// its first read: Options.ReadBufferSize. netpoll doubles a connection's
	// read size each time a read fills it (up to 8 MiB); the engine still hands
	// OnData at most ReadBufferSize bytes per call.
	BufferSize int `json:"buffer_size"`
	// Runner names what runs OnConnect/OnRequest tasks: netpoll's default
	// goroutine pool, github.com/bytedance/gopkg/util/gopool, or the one of
	// github.com/cloudwego/gopkg when USE_CLOUDWEGO_GOPOOL is true in the
	// environment (netpoll reads it at init).
	Runner string `json:"runner"`
	// LoadBalance is how new connections are spread over the pollers.
	LoadBalance string `json:"load_balance"`
	// LinkBufferCap is the smallest node of netpoll's buffers
	// (cloudwego.LinkBufferCap; netpoll's default is 4 KiB). netpoll keeps a
	// connection's last output node, up to 8 KiB, while it is idle, so a
	// small minimum makes idle connections cheaper: 1 KiB saves about 3 KiB
	// per connection that ever wrote a small packet.
	LinkBufferCap int `json:"link_buffer_cap"`
}

// linkBufferCap is ProcessConfig.LinkBufferCap.
const linkBufferCap = 1 << 10

// String formats c for logs and result files.
func (c ProcessConfig) String() string {
	return fmt.Sprintf("pollers=%d buffer=%d runner=%s balance=%s link-buffer-cap=%d",
		c.Pollers, c.BufferSize, c.Runner, c.LoadBalance, c.LinkBufferCap)
}

// process holds the configuration applied by the first successful NewEngine.
// A mutex and a flag rather than sync.Once: Config reads the result, and a
// failed configuration may be retried.
var process struct {
	mu      sync.Mutex
	done    bool
	applied ProcessConfig
}

// processConfigFor is the ProcessConfig that o asks for; o has its defaults.
func processConfigFor(o engines.Options) ProcessConfig {
	pollers := o.Loops
	if pollers <= 0 {
		pollers = runtime.GOMAXPROCS(0)
	}
	runner := "bytedance/gopkg/util/gopool"
	if yes, _ := strconv.ParseBool(os.Getenv("USE_CLOUDWEGO_GOPOOL")); yes {
		runner = "cloudwego/gopkg/concurrency/gopool"
	}
	return ProcessConfig{
		Pollers:       pollers,
		BufferSize:    o.ReadBufferSize,
		Runner:        runner,
		LoadBalance:   "round-robin",
		LinkBufferCap: linkBufferCap,
	}
}

// configure applies want to netpoll once per process and returns what is in
// effect. netpoll must be configured before it starts its pollers (its first
// connection); NewEngine therefore has to run before any other use of netpoll
// in the process, or the poller count changes under live connections.
func configure(want ProcessConfig) (ProcessConfig, error) {
	process.mu.Lock()
	defer process.mu.Unlock()
	if process.done {
		return process.applied, nil
	}
	// A plain variable read by netpoll's buffers: set before netpoll's first
	// connection, like the rest.
	cloudwego.LinkBufferCap = want.LinkBufferCap
	err := cloudwego.Configure(cloudwego.Config{
		PollerNum:   want.Pollers,
		BufferSize:  want.BufferSize,
		LoadBalance: cloudwego.RoundRobin,
	})
	if err != nil {
		return ProcessConfig{}, fmt.Errorf("netpoll: configure %v: %w", want, err)
	}
	process.done, process.applied = true, want
	return want, nil
}

// Config returns netpoll's process-wide configuration as set by the first
// NewEngine, for recording with results; ok is false before that.
func Config() (c ProcessConfig, ok bool) {
	process.mu.Lock()
	defer process.mu.Unlock()
	return process.applied, process.done
}
