//go:build !linux

package loadgen

import "time"

// sleeper sleeps with time.Sleep outside Linux.
type sleeper struct{}

func newSleeper() *sleeper               { return &sleeper{} }
func (s *sleeper) sleep(d time.Duration) { time.Sleep(d) }
func (s *sleeper) close()                {}
