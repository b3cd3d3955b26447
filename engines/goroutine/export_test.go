package goroutine

import (
	"time"

	"github.com/pubsubx/pubsubx/engines"
)

// NewPortableEngine is NewEngine with the portable blocking reader forced, so
// that Linux tests cover the reader other platforms use.
func NewPortableEngine(o engines.Options) (engines.Engine, error) {
	return newEngine(o, true), nil
}

// WriteCalls is the number of writev batches the engine has made on c, a Conn
// of this engine.
func WriteCalls(c engines.Conn) uint64 { return c.(*conn).writeCalls.Load() }

// NewEngineWithCloseFlushTimeout is NewEngine with the final flush of a
// locally closed connection bounded by d instead of the default.
func NewEngineWithCloseFlushTimeout(d time.Duration) func(engines.Options) (engines.Engine, error) {
	return func(o engines.Options) (engines.Engine, error) {
		e := newEngine(o, false)
		e.closeFlushTimeout = d
		return e, nil
	}
}
