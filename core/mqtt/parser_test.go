package mqtt

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// parsed is one result of Parser.Next, with the body copied out.
type parsed struct {
	h    FixedHeader
	body string
	err  error
}

// parseChunks feeds chunks one after the other and collects every packet
// (bodies copied, since they are valid only until the next call) up to the
// first error.
func parseChunks(p *Parser, chunks ...[]byte) []parsed {
	var out []parsed
	for _, c := range chunks {
		p.Feed(c)
		for {
			h, body, ok, err := p.Next()
			if err != nil {
				return append(out, parsed{err: err})
			}
			if !ok {
				break
			}
			out = append(out, parsed{h: h, body: string(body)})
		}
	}
	return out
}

func equalParsed(a, b []parsed) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// validStream returns every valid fixture's bytes, concatenated, and the
// offset of each packet in it.
func validStream() (stream []byte, offsets []int) {
	for _, f := range fixtures {
		if f.err == nil {
			offsets = append(offsets, len(stream))
			stream = append(stream, f.raw...)
		}
	}
	return stream, offsets
}

func TestParserSplitEveryFixtureEverywhere(t *testing.T) {
	for _, f := range fixtures {
		var whole Parser
		want := parseChunks(&whole, f.raw)
		if len(want) != 1 {
			t.Fatalf("%s: %d results from one chunk, want 1", f.name, len(want))
		}
		for i := 0; i <= len(f.raw); i++ {
			var p Parser
			first, second := bytes.Clone(f.raw[:i]), bytes.Clone(f.raw[i:])
			got := parseChunks(&p, first, second)
			if !equalParsed(got, want) {
				t.Fatalf("%s split at %d: %+v, want %+v", f.name, i, got, want)
			}
			if want[0].err == nil && p.Buffered() != 0 {
				t.Fatalf("%s split at %d: %d bytes still buffered", f.name, i, p.Buffered())
			}
		}
	}
}

func TestParserManyPacketsInOneChunkAreNotCopied(t *testing.T) {
	stream, offsets := validStream()
	var p Parser
	p.Feed(stream)
	for i, off := range offsets {
		h, body, ok, err := p.Next()
		if !ok || err != nil {
			t.Fatalf("packet %d: ok=%v err=%v", i, ok, err)
		}
		start := off + 1 + VarintSize(h.Remaining)
		if len(body) != h.Remaining || cap(body) != len(body) {
			t.Fatalf("packet %d: len %d cap %d, remaining %d", i, len(body), cap(body), h.Remaining)
		}
		if len(body) > 0 && &body[0] != &stream[start] {
			t.Fatalf("packet %d was copied", i)
		}
	}
	if _, _, ok, err := p.Next(); ok || err != nil || p.Buffered() != 0 {
		t.Fatalf("after the last packet: ok=%v err=%v buffered=%d", ok, err, p.Buffered())
	}
}

func TestParserStreamSplitEverywhere(t *testing.T) {
	stream, _ := validStream()
	var whole Parser
	want := parseChunks(&whole, stream)
	for i := 0; i <= len(stream); i++ {
		var p Parser
		if got := parseChunks(&p, stream[:i], stream[i:]); !equalParsed(got, want) {
			t.Fatalf("split at %d: %d packets, want %d", i, len(got), len(want))
		}
	}
}

func TestParserRandomChunks(t *testing.T) {
	stream, _ := validStream()
	var whole Parser
	want := parseChunks(&whole, stream)
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		var chunks [][]byte
		for rest := stream; len(rest) > 0; {
			n := min(1+rng.IntN(12), len(rest))
			chunks = append(chunks, bytes.Clone(rest[:n])) // a fresh buffer per read
			rest = rest[n:]
		}
		var p Parser
		if got := parseChunks(&p, chunks...); !equalParsed(got, want) {
			t.Fatalf("trial %d: %d packets, want %d", trial, len(got), len(want))
		}
	}
}

// A chunk's first bytes complete a split packet; the packets after it in the
// chunk must be returned in place again.
func TestParserZeroCopyAfterSplitPacket(t *testing.T) {
	pub := AppendPublish(nil, V311, &Publish{Topic: b("a/b"), Payload: b("payload")})
	second := append(bytes.Clone(pub[5:]), pub...)
	second = append(second, pub...)
	var p Parser
	p.Feed(pub[:5])
	if _, _, ok, err := p.Next(); ok || err != nil || p.Buffered() != 5 {
		t.Fatalf("partial packet: ok=%v err=%v buffered=%d", ok, err, p.Buffered())
	}
	p.Feed(second)
	if _, body, ok, _ := p.Next(); !ok || string(body) != string(pub[2:]) {
		t.Fatal("split packet not completed")
	}
	for k := 0; k < 2; k++ {
		_, body, ok, err := p.Next()
		if !ok || err != nil {
			t.Fatalf("packet %d after the split one: ok=%v err=%v", k, ok, err)
		}
		if start := len(pub) - 5 + k*len(pub) + 2; &body[0] != &second[start] {
			t.Fatalf("packet %d after the split one was copied", k)
		}
	}
	if p.Buffered() != 0 {
		t.Fatalf("buffered %d", p.Buffered())
	}
}

func TestParserReleasesLargeScratch(t *testing.T) {
	big := AppendPublish(nil, V311, &Publish{Topic: b("t"), Payload: make([]byte, 10000)})
	var p Parser
	got := parseChunks(&p, big[:100], big[100:5000], big[5000:])
	if len(got) != 1 || got[0].err != nil || len(got[0].body) != len(big)-3 {
		t.Fatalf("big packet: %+v", got)
	}
	if p.Buffered() != 0 || cap(p.scratch) != 0 {
		t.Fatalf("after a big split packet: buffered %d, scratch capacity %d", p.Buffered(), cap(p.scratch))
	}

	// A small scratch is kept while the stream flows, released when idle.
	small := AppendPublish(nil, V311, &Publish{Topic: b("t"), Payload: b("small")})
	two := append(bytes.Clone(small[3:]), small[:3]...)
	parseChunks(&p, small[:3], two)
	if c := cap(p.scratch); c == 0 || c > scratchKeep {
		t.Fatalf("between two split packets: scratch capacity %d, want 1..%d", c, scratchKeep)
	}
	parseChunks(&p, small[3:])
	if p.Buffered() != 0 || p.scratch != nil {
		t.Fatalf("idle: buffered %d, scratch capacity %d", p.Buffered(), cap(p.scratch))
	}
	if size := unsafe.Sizeof(p); size > 80 {
		t.Fatalf("an idle Parser costs %d bytes", size)
	}
}

// A peer announcing a big packet and sending little of it gets a scratch
// buffer sized by what it sent, not by what it announced.
func TestParserScratchGrowsWithInput(t *testing.T) {
	header := []byte{0x30, 0xff, 0xff, 0x7f} // PUBLISH, remaining length 2097151
	var p Parser
	parseChunks(&p, append(header, 0, 1, 't'))
	if c := cap(p.scratch); c > 256 {
		t.Fatalf("7 bytes of a 2 MiB packet hold a %d-byte scratch", c)
	}
}

func TestParserMaxPacketSize(t *testing.T) {
	pub := AppendPublish(nil, V311, &Publish{Topic: b("t"), Payload: make([]byte, 200)})
	p := Parser{MaxPacketSize: len(pub)}
	if got := parseChunks(&p, pub); len(got) != 1 || got[0].err != nil {
		t.Fatalf("packet of exactly MaxPacketSize: %+v", got)
	}
	p = Parser{MaxPacketSize: len(pub) - 1}
	got := parseChunks(&p, pub[:3]) // the fixed header alone
	if len(got) != 1 || got[0].err != ErrPacketTooLarge || p.Buffered() != 0 {
		t.Fatalf("oversized packet: %+v, buffered %d", got, p.Buffered())
	}
	if Reason(got[0].err) != PacketTooLarge {
		t.Fatalf("reason %v", Reason(got[0].err))
	}
	// The header split across chunks: still refused before the body.
	p = Parser{MaxPacketSize: 100}
	if got := parseChunks(&p, pub[:2], pub[2:3]); len(got) != 1 || got[0].err != ErrPacketTooLarge {
		t.Fatalf("oversized packet, split header: %+v", got)
	}
}

func TestParserErrorIsSticky(t *testing.T) {
	var p Parser
	valid := AppendPingreq(nil)
	got := parseChunks(&p, append(bytes.Clone(valid), 0x00, 0x00))
	if len(got) != 2 || got[0].err != nil || got[1].err != ErrReservedType {
		t.Fatalf("ping then type 0: %+v", got)
	}
	p.Feed(valid)
	if _, _, ok, err := p.Next(); ok || err != ErrReservedType {
		t.Fatalf("after an error: ok=%v err=%v", ok, err)
	}
	p.Reset()
	if got := parseChunks(&p, valid); len(got) != 1 || got[0].err != nil {
		t.Fatalf("after Reset: %+v", got)
	}
}

// Feeding before Next has drained a chunk must lose nothing.
func TestParserFeedBeforeDrained(t *testing.T) {
	stream, offsets := validStream()
	var whole Parser
	want := parseChunks(&whole, stream)
	cut := offsets[10] + 1 // inside the eleventh packet
	var p Parser
	p.Feed(stream[:cut])
	var got []parsed
	for k := 0; k < 3; k++ { // read only three of the ten complete packets
		h, body, ok, err := p.Next()
		if !ok || err != nil {
			t.Fatalf("packet %d: ok=%v err=%v", k, ok, err)
		}
		got = append(got, parsed{h: h, body: string(body)})
	}
	got = append(got, parseChunks(&p, stream[cut:])...)
	if !equalParsed(got, want) {
		t.Fatalf("%d packets, want %d", len(got), len(want))
	}
}

func TestParserGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 2000; trial++ {
		junk := make([]byte, rng.IntN(64))
		for i := range junk {
			junk[i] = byte(rng.Uint32())
		}
		p := Parser{MaxPacketSize: 1 << 16}
		split := 0
		if len(junk) > 0 {
			split = rng.IntN(len(junk))
		}
		for _, r := range parseChunks(&p, junk[:split], junk[split:]) {
			var e *Error
			if r.err != nil && !errors.As(r.err, &e) {
				t.Fatalf("% x: error %v is not an *Error", junk, r.err)
			}
			if r.err == nil {
				decodePacket(V5, r.h, []byte(r.body))
				decodePacket(V311, r.h, []byte(r.body))
			}
		}
	}
}

func TestVarint(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 16383, 16384, 2097151, 2097152, MaxRemainingLength} {
		enc := AppendVarint(nil, n)
		if len(enc) != VarintSize(n) {
			t.Errorf("%d: %d bytes, VarintSize %d", n, len(enc), VarintSize(n))
		}
		got, rest, err := readVarint(append(enc, 0xee))
		if err != nil || got != n || len(rest) != 1 {
			t.Errorf("%d: decoded %d, rest %d, err %v", n, got, len(rest), err)
		}
	}
	for _, bad := range [][]byte{{0x80}, {0x80, 0x80, 0x80}, {0x80, 0x80, 0x80, 0x80}, {0x80, 0x00}, {}} {
		if _, _, err := readVarint(bad); err == nil {
			t.Errorf("% x decoded", bad)
		}
	}
}
