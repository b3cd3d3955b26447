package loadgen

import (
	"fmt"
	"strings"
	"time"
)

// Status is the live state of a measurement, reported about once a second
// through Config.Status. Rates are over the last interval.
type Status struct {
	Label        string
	Elapsed      time.Duration
	Sent         int64
	SendRate     float64
	Delivered    int64
	DeliveryRate float64
	InFlight     int64   // deliveries expected and not yet made
	LoadgenCPU   float64 // cores
	BrokerCPU    float64 // cores; negative when unknown
	BrokerRSS    int64
}

// String formats s as one line.
func (s Status) String() string {
	var b strings.Builder
	if s.Label != "" {
		fmt.Fprintf(&b, "[%s] ", s.Label)
	}
	fmt.Fprintf(&b, "%5.1fs sent %d (%s/s) delivered %d (%s/s) in flight %d loadgen %.0f%%",
		s.Elapsed.Seconds(), s.Sent, FormatCount(s.SendRate), s.Delivered, FormatCount(s.DeliveryRate), s.InFlight, 100*s.LoadgenCPU)
	if s.BrokerCPU >= 0 {
		fmt.Fprintf(&b, " broker %.0f%% %s", 100*s.BrokerCPU, FormatBytes(s.BrokerRSS))
	}
	return b.String()
}

// FormatBytes prints a size in binary units: 512 B, 1.5 KiB, 20.0 MiB.
func FormatBytes(n int64) string {
	v := float64(n)
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	default:
		return fmt.Sprintf("%.2f GiB", v/(1<<30))
	}
}

// startStatus reports the session's counters every second through
// cfg.Status until the returned function is called.
func (s *Session) startStatus(label string) (stop func()) {
	if s.cfg.Status == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		start := time.Now()
		prev := takeStatusSample(s)
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			cur := takeStatusSample(s)
			dt := cur.wall.Sub(prev.wall).Seconds()
			st := Status{
				Label: label, Elapsed: time.Since(start), Sent: cur.sent, Delivered: cur.delivered,
				SendRate: float64(cur.sent-prev.sent) / dt, DeliveryRate: float64(cur.delivered-prev.delivered) / dt,
				InFlight:   s.expected() - cur.delivered,
				LoadgenCPU: (cur.self - prev.self).Seconds() / dt, BrokerCPU: -1,
			}
			if s.cfg.BrokerPID > 0 && cur.broker.RSS > 0 {
				st.BrokerCPU, st.BrokerRSS = (cur.broker.CPU-prev.broker.CPU).Seconds()/dt, cur.broker.RSS
			}
			s.cfg.Status(st)
			prev = cur
		}
	}()
	return func() { close(done); <-finished }
}

type statusSample struct {
	wall            time.Time
	sent, delivered int64
	self            time.Duration
	broker          ProcStat
}

func takeStatusSample(s *Session) statusSample {
	st := statusSample{wall: time.Now(), sent: s.sent(), delivered: s.delivered(), self: readSelf().CPU}
	if s.cfg.BrokerPID > 0 {
		st.broker, _ = ReadProcess(s.cfg.BrokerPID)
	}
	return st
}
