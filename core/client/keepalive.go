package client

import (
	"time"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

// keepAliveLoop sends PINGREQ every interval, so that the server never
// waits 1.5 keep-alives for a packet [MQTT-3.1.2-24], and declares the
// connection lost when nothing arrived within an interval after a PINGREQ
// [MQTT-3.1.2-23]: a vanished broker is noticed within two intervals.
func (c *Client) keepAliveLoop(interval time.Duration) {
	defer close(c.pingDone)
	timer := time.NewTimer(interval)
	defer timer.Stop()
	pingAt := time.Duration(-1) // when the last PINGREQ was queued, since c.start
	for {
		select {
		case <-c.done:
			return
		case <-timer.C:
		}
		if pingAt >= 0 && time.Duration(c.lastRecv.Load()) < pingAt {
			c.fail(lost(ErrKeepAliveTimeout))
			return
		}
		pingAt = time.Since(c.start)
		c.mu.Lock()
		before := len(c.out)
		c.out = mqtt.AppendPingreq(c.out)
		c.grewLocked(before)
		idle := !c.flushing
		c.mu.Unlock()
		if idle {
			// Written by a goroutine of its own: this one must keep time
			// even if the write blocks on a server that stopped reading
			// (then the next tick closes the connection, ending the write).
			go c.kickFlush()
		}
		timer.Reset(interval)
	}
}
