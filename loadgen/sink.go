package loadgen

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

// The flooding sink measures the loadgen's own ceiling: a tiny MQTT server
// that answers CONNECT and SUBSCRIBE and then writes pre-encoded PUBLISH
// packets to each connection as fast as the connection takes them, with
// no broker in the way. Subscribers of the sink scenario take them in
// exactly as they take a broker's, so their rate is the most the loadgen
// can measure on its core.

// sinkChunk is the size of one flood write.
const sinkChunk = 64 << 10

// ServeSink runs the flooding sink on ln until ln is closed; each message
// has a size-byte payload carrying a loadgen header. A subscription to
// ".../sink/N" receives stream N.
func ServeSink(ln net.Listener, size int) error {
	if size < HeaderSize {
		return fmt.Errorf("%w: sink message size %d is under the %d-byte header", ErrBadConfig, size, HeaderSize)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		wg.Go(func() {
			defer conn.Close()
			floodConn(conn, size)
		})
	}
}

// floodConn answers the handshake, then floods until a write fails.
func floodConn(conn net.Conn, size int) error {
	var p mqtt.Parser
	buf := make([]byte, 4096)
	next := func() (mqtt.FixedHeader, []byte, error) {
		for {
			h, body, ok, err := p.Next()
			if err != nil || ok {
				return h, body, err
			}
			n, err := conn.Read(buf)
			if n > 0 {
				p.Feed(buf[:n])
			} else if err != nil {
				return h, nil, err
			}
		}
	}
	var version mqtt.Version
	var sub mqtt.Subscribe
	for sub.PacketID == 0 {
		h, body, err := next()
		if err != nil {
			return err
		}
		switch h.Type {
		case mqtt.CONNECT:
			var c mqtt.Connect
			if err := mqtt.DecodeConnect(body, &c); err != nil {
				return err
			}
			version = c.Version
			if _, err := conn.Write(mqtt.AppendConnack(nil, version, &mqtt.Connack{})); err != nil {
				return err
			}
		case mqtt.SUBSCRIBE:
			if err := mqtt.DecodeSubscribe(version, body, &sub); err != nil {
				return err
			}
			if len(sub.Filters) == 0 {
				return errors.New("loadgen: sink: SUBSCRIBE without a filter")
			}
			ack := mqtt.Suback{PacketID: sub.PacketID, Reasons: []mqtt.ReasonCode{0}}
			if _, err := conn.Write(mqtt.AppendSuback(nil, version, &ack)); err != nil {
				return err
			}
		}
	}
	topic := bytes.Clone(sub.Filters[0].Filter)
	stream, err := strconv.ParseUint(string(topic[bytes.LastIndexByte(topic, '/')+1:]), 10, 32)
	if err != nil {
		return fmt.Errorf("loadgen: sink: topic %q does not end in a stream number", topic)
	}
	go io.Copy(io.Discard, conn) // PINGREQ, DISCONNECT
	return flood(conn, version, topic, uint32(stream), size)
}

// flood writes chunks of PUBLISH packets of stream, patching each
// message's sequence numbers and times in place before each write.
func flood(w io.Writer, v mqtt.Version, topic []byte, stream uint32, size int) error {
	payload := make([]byte, size)
	h := Header{Publisher: stream, Stream: stream, Fanout: 1, Flags: FlagMeasured}
	h.Put(payload)
	var chunk []byte
	var offsets []int // of each payload in chunk
	for {
		pkt := mqtt.AppendPublish(nil, v, &mqtt.Publish{Topic: topic, Payload: payload})
		if len(chunk)+len(pkt) > sinkChunk && len(offsets) > 0 {
			break
		}
		chunk = append(chunk, pkt...)
		offsets = append(offsets, len(chunk)-size)
	}
	var seq uint64
	le := binary.LittleEndian
	for {
		now := Now()
		for _, off := range offsets {
			p := chunk[off:]
			le.PutUint64(p[offSeq:], seq)
			le.PutUint64(p[offPubSeq:], seq)
			le.PutUint64(p[offIntended:], uint64(now))
			le.PutUint64(p[offSent:], uint64(now))
			seq++
		}
		if _, err := w.Write(chunk); err != nil {
			return err
		}
	}
}

// Ceiling is the loadgen's measured ceiling: the rate at which its
// subscribers took in the flooding sink's messages.
type Ceiling struct {
	Subscribers int     `json:"subscribers"`
	Size        int     `json:"size"`
	Seconds     float64 `json:"seconds"`
	Rate        float64 `json:"msgs_per_second"`
	// PerCore is Rate per core of loadgen CPU time: the ceiling the
	// loadgen would reach on a full core when the sink, not the loadgen,
	// was the limit (loadgen CPU well under 100 %).
	PerCore   float64   `json:"msgs_per_core_second"`
	Loadgen   Usage     `json:"loadgen"`
	Runtime   GoRuntime `json:"loadgen_runtime"`
	Malformed int64     `json:"malformed,omitempty"`
}

// Limit is the delivery rate beyond which a run is the loadgen's: the
// measured rate when the loadgen's core was saturated (90 % or more),
// else the rate per core (the sink was the limit then).
func (c *Ceiling) Limit() float64 {
	if c == nil {
		return 0
	}
	if c.Loadgen.CPU >= maxLoadgenCPU*float64(max(c.Runtime.GOMAXPROCS, 1)) || c.PerCore == 0 {
		return c.Rate
	}
	return c.PerCore
}

// MeasureCeiling connects subscribers subscribers to the flooding sink at
// sinkAddr and measures the rate they take messages in over duration,
// after warmup.
func MeasureCeiling(ctx context.Context, sinkAddr string, subscribers, size int, warmup, duration time.Duration) (*Ceiling, error) {
	s, err := Connect(ctx, Config{Addr: sinkAddr, Scenario: sinkScenario{n: subscribers}, Size: size})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	defer s.closeSubscribers()
	sleepUntil(ctx, Now()+int64(warmup))
	a := takeSample(0, s.delivered)
	sleepUntil(ctx, Now()+int64(duration))
	b := takeSample(0, s.delivered)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	wall := b.wall.Sub(a.wall)
	c := &Ceiling{
		Subscribers: subscribers, Size: size, Seconds: wall.Seconds(),
		Rate:    float64(b.delivered-a.delivered) / wall.Seconds(),
		Loadgen: usageBetween(a.self, b.self, wall), Runtime: goRuntimeBetween(&a.mem, &b.mem),
	}
	if c.Loadgen.CPU > 0 {
		c.PerCore = c.Rate / c.Loadgen.CPU
	}
	s.closeSubscribers()
	for _, sub := range s.subs {
		c.Malformed += sub.rec.counts.Malformed
	}
	return c, nil
}
