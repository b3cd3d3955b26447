package mqtt

import (
	"bytes"
	"testing"
)

// benchPublish is the hot-path message: a 64-byte payload on a short topic.
func benchPublish(v Version, withProps bool) *Publish {
	p := &Publish{Topic: b("bench/topic/0"), Payload: bytes.Repeat([]byte{'x'}, 64)}
	if withProps {
		p.QoS, p.PacketID = 1, 9
		p.Props.MessageExpiry = 60
		p.Props.Set(PropMessageExpiry)
		p.Props.UserProperties = []UserProperty{{b("trace"), b("abc")}, {b("k"), b("v")}}
	}
	return p
}

// publishCases are the PUBLISH variants the benchmarks measure.
var publishCases = []struct {
	name      string
	v         Version
	withProps bool
}{{"v=3.1.1", V311, false}, {"v=5.0", V5, false}, {"v=5.0/props", V5, true}}

// publishChunk is n encoded copies of p, as one read from the network.
func publishChunk(v Version, p *Publish, n int) []byte {
	var chunk []byte
	for range n {
		chunk = AppendPublish(chunk, v, p)
	}
	return chunk
}

func TestAllocsParserFeedNext(t *testing.T) {
	chunk := publishChunk(V311, benchPublish(V311, false), 100)
	var p Parser
	allocs := testing.AllocsPerRun(50, func() {
		p.Feed(chunk)
		for {
			_, _, ok, err := p.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
		}
	})
	if allocs != 0 {
		t.Errorf("Feed/Next over 100 PUBLISH packets: %v allocations", allocs)
	}
}

func TestAllocsDecodePublish(t *testing.T) {
	for _, tc := range publishCases {
		raw := AppendPublish(nil, tc.v, benchPublish(tc.v, tc.withProps))
		flags, body := raw[0]&0x0f, raw[2:]
		var p Publish
		if err := DecodePublish(tc.v, flags, body, &p); err != nil { // warm-up: grows the lists
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			if err := DecodePublish(tc.v, flags, body, &p); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: DecodePublish into a reused struct: %v allocations", tc.name, allocs)
		}
	}
}

func TestAllocsAppendPublish(t *testing.T) {
	for _, v := range []Version{V311, V5} {
		p := benchPublish(v, v == V5)
		buf := make([]byte, 0, 256)
		allocs := testing.AllocsPerRun(100, func() {
			buf = AppendPublish(buf[:0], v, p)
		})
		if allocs != 0 {
			t.Errorf("%v: AppendPublish into a buffer with room: %v allocations", v, allocs)
		}
	}
}

// Every fixture decodes into reused structs, and every valid one encodes
// into a buffer with room, without allocating; errors are shared values.
func TestAllocsEveryFixture(t *testing.T) {
	var r reusedPackets
	buf := make([]byte, 0, 1024)
	for _, f := range fixtures {
		h, body, ok := firstPacket(f.raw)
		if !ok {
			continue
		}
		pkt, _ := r.decode(f.v, h, body) // warm-up
		allocs := testing.AllocsPerRun(20, func() { r.decode(f.v, h, body) })
		if allocs != 0 {
			t.Errorf("%s: decode: %v allocations", f.name, allocs)
		}
		if f.err != nil {
			continue
		}
		allocs = testing.AllocsPerRun(20, func() { buf = encodePacket(buf[:0], f.v, pkt) })
		if allocs != 0 {
			t.Errorf("%s: encode: %v allocations", f.name, allocs)
		}
	}
}

func BenchmarkParsePublish(b *testing.B) {
	for _, tc := range publishCases {
		b.Run(tc.name, func(b *testing.B) {
			msg := benchPublish(tc.v, tc.withProps)
			chunk := publishChunk(tc.v, msg, 256)
			b.SetBytes(int64(PublishSize(tc.v, msg)))
			b.ReportAllocs()
			var p Parser
			var pub Publish
			for b.Loop() {
				h, body, ok, err := p.Next()
				if !ok {
					p.Feed(chunk)
					h, body, ok, err = p.Next()
				}
				if err != nil || h.Type != PUBLISH {
					b.Fatal(err)
				}
				if err := DecodePublish(tc.v, h.Flags, body, &pub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodePublish(b *testing.B) {
	raw := AppendPublish(nil, V311, benchPublish(V311, false))
	b.ReportAllocs()
	var pub Publish
	for b.Loop() {
		if err := DecodePublish(V311, raw[0]&0x0f, raw[2:], &pub); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPublish(b *testing.B) {
	for _, tc := range publishCases {
		b.Run(tc.name, func(b *testing.B) {
			msg := benchPublish(tc.v, tc.withProps)
			b.SetBytes(int64(PublishSize(tc.v, msg)))
			b.ReportAllocs()
			buf := make([]byte, 0, 256)
			for b.Loop() {
				buf = AppendPublish(buf[:0], tc.v, msg)
			}
		})
	}
}

func BenchmarkValidUTF8(b *testing.B) {
	topic := []byte("sensors/building-7/floor-3/room-12/temperature")
	b.SetBytes(int64(len(topic)))
	for b.Loop() {
		if !ValidUTF8(topic) {
			b.Fatal("invalid")
		}
	}
}
