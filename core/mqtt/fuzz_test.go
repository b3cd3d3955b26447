package mqtt

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzParser feeds its input to a Parser in two chunks, split at a point
// taken from the input's last byte, and checks that:
//   - the split changes nothing: the packets (or the error) are those of
//     the whole input fed at once;
//   - every packet decodes, as 3.1.1 and as 5.0, without panicking, and
//     every error is an *Error;
//   - a packet that decodes cleanly encodes to bytes that parse as one
//     packet and decode to an equal struct.
func FuzzParser(f *testing.F) {
	for _, fx := range fixtures { // testdata/fuzz/FuzzParser adds a few multi-packet streams
		f.Add(fx.raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		split := 0
		if len(data) > 0 {
			split = int(data[len(data)-1]) % (len(data) + 1)
		}
		whole := Parser{MaxPacketSize: 1 << 20}
		want := parseChunks(&whole, data)
		p := Parser{MaxPacketSize: 1 << 20}
		got := parseChunks(&p, data[:split], data[split:])
		if !equalParsed(got, want) {
			t.Fatalf("split at %d: %+v, whole: %+v", split, got, want)
		}
		for _, r := range got {
			if r.err != nil {
				checkError(t, r.err)
				continue
			}
			for _, v := range []Version{V311, V5} {
				checkRoundTrip(t, v, r.h, []byte(r.body))
			}
		}
	})
}

func checkError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code < 0x80 {
		t.Fatalf("error %v (%T) is not an *Error with a failure code", err, err)
	}
}

func checkRoundTrip(t *testing.T, v Version, h FixedHeader, body []byte) {
	t.Helper()
	pkt, err := decodePacket(v, h, body)
	if err != nil {
		checkError(t, err)
		return
	}
	encV := v
	if c, ok := pkt.(*Connect); ok {
		encV = c.Version
	}
	enc := encodePacket(nil, encV, pkt)
	if pub, ok := pkt.(*Publish); ok && PublishSize(v, pub) != len(enc) {
		t.Fatalf("PublishSize %d, encoded %d bytes", PublishSize(v, pub), len(enc))
	}
	_, again, err := readOne(encV, enc)
	if err != nil {
		t.Fatalf("%v %v % x decoded, but its encoding % x does not: %v", v, h.Type, body, enc, err)
	}
	if !reflect.DeepEqual(again, pkt) {
		t.Fatalf("%v %v % x:\ndecoded %+v\nre-encoded % x\ndecoded %+v", v, h.Type, body, pkt, enc, again)
	}
}
