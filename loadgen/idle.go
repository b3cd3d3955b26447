package loadgen

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pubsubx/pubsubx/core/client"
)

// idleSet is the idle connections of a session and what opening them cost
// the broker.
type idleSet struct {
	mu      sync.Mutex
	clients []*client.Client
	result  IdleResult
}

// IdleResult reports the idle connections: how many opened, how long that
// took, and the broker's resident memory before and after (when its
// process id is known).
type IdleResult struct {
	Requested   int     `json:"requested"`
	Connected   int     `json:"connected"`
	Failed      int     `json:"failed"`
	FirstError  string  `json:"first_error,omitempty"`
	ConnectSecs float64 `json:"connect_seconds"`
	Sources     int     `json:"source_addresses"`
	RSSBefore   int64   `json:"broker_rss_before_bytes,omitempty"`
	RSSAfter    int64   `json:"broker_rss_after_bytes,omitempty"`
	// PerConnection is (RSSAfter - RSSBefore) / Connected.
	PerConnection float64 `json:"broker_bytes_per_connection,omitempty"`
}

// idleReadBuffer is the read buffer of an idle client: they receive
// nothing but their CONNACK and SUBACK.
const idleReadBuffer = 512

// openIdle opens spec.Connections idle connections, paced by a constant
// pacer at spec.ConnectRate, and measures the broker's memory around them.
func openIdle(ctx context.Context, cfg Config, spec IdleSpec) (*idleSet, error) {
	set := &idleSet{result: IdleResult{Requested: spec.Connections}}
	dialers := sourceDialers(cfg.Addr, spec.Sources)
	set.result.Sources = len(dialers)
	if cfg.BrokerPID > 0 {
		if st, err := ReadProcess(cfg.BrokerPID); err == nil {
			set.result.RSSBefore = st.RSS
		}
	}
	var failed atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, dialConcurrency)
	var wg sync.WaitGroup
	open := func(n uint64, _ int64) error {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := dialIdle(ctx, cfg, spec, int(n), dialers[int(n)%len(dialers)])
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			set.mu.Lock()
			set.clients = append(set.clients, c)
			set.mu.Unlock()
		})
		return nil
	}
	pacer := PacerFunc(func(n uint64) (time.Duration, bool) {
		if spec.ConnectRate <= 0 {
			return 0, n >= uint64(spec.Connections)
		}
		return time.Duration(float64(n) * 1e9 / spec.ConnectRate), n >= uint64(spec.Connections)
	})
	start := time.Now()
	_, err := Drive(ctx, pacer, Now(), open, func() error { return nil })
	wg.Wait()
	r := &set.result
	r.ConnectSecs = time.Since(start).Seconds()
	r.Connected = len(set.clients)
	r.Failed = int(failed.Load())
	if e, ok := firstErr.Load().(string); ok {
		r.FirstError = e
	}
	if err != nil {
		return set, err
	}
	if cfg.BrokerPID > 0 && r.Connected > 0 {
		r.RSSAfter = settledRSS(ctx, cfg.BrokerPID)
		r.PerConnection = float64(r.RSSAfter-r.RSSBefore) / float64(r.Connected)
	}
	if r.Connected == 0 {
		return set, fmt.Errorf("loadgen: no idle connection opened: %s", r.FirstError)
	}
	return set, nil
}

func dialIdle(ctx context.Context, cfg Config, spec IdleSpec, i int, d *net.Dialer) (*client.Client, error) {
	c, err := client.Dial(ctx, cfg.Addr, client.Options{
		ClientID: fmt.Sprintf("%s%d", spec.Prefix, i), Version: cfg.Version, CleanStart: true,
		KeepAlive: -1, ReadBufferSize: idleReadBuffer, WriteBufferSize: idleReadBuffer, Dialer: d,
	})
	if err != nil {
		return nil, err
	}
	if spec.Subscribe {
		topic := fmt.Sprintf("%s/%d", spec.Prefix, i)
		if _, err := c.Subscribe(ctx, client.Subscription{Filter: topic, QoS: cfg.QoS}); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// sourceDialers returns the dialers of n loopback source addresses
// 127.0.0.2, 127.0.0.3, ... for a loopback addr, else one default dialer.
func sourceDialers(addr string, n int) []*net.Dialer {
	host, _, err := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	if host == "localhost" {
		ip = net.IPv4(127, 0, 0, 1)
	}
	if err != nil || n <= 0 || ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return []*net.Dialer{{}}
	}
	n = min(n, 250)
	ds := make([]*net.Dialer, n)
	for i := range ds {
		ds[i] = &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}}
	}
	return ds
}

// settledRSS samples the process's resident memory until it stops moving
// (two samples 200 ms apart within 1 %), for at most 3 s.
func settledRSS(ctx context.Context, pid int) int64 {
	var last int64
	for deadline := time.Now().Add(3 * time.Second); ; {
		st, err := ReadProcess(pid)
		if err != nil {
			return last
		}
		if d := st.RSS - last; last > 0 && d*100 <= last && -d*100 <= last || time.Now().After(deadline) {
			return st.RSS
		}
		last = st.RSS
		select {
		case <-ctx.Done():
			return last
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// close closes the idle connections abruptly (their sessions end with
// them: they were opened with CleanStart and no expiry).
func (s *idleSet) close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	clients := s.clients
	s.clients = nil
	s.mu.Unlock()
	var wg sync.WaitGroup
	sem := make(chan struct{}, dialConcurrency)
	for _, c := range clients {
		sem <- struct{}{}
		wg.Go(func() { c.Close(); <-sem })
	}
	wg.Wait()
}
