package mqtt

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"testing"
)

// fixture is one packet of the shared test table: its bytes, the protocol
// version it is read with, and either the packet it decodes to or the error
// reading it must give. The table is fixtures (below), assembled from the
// fixtures_*_test.go files, one per packet family; every byte of raw is
// commented there.
type fixture struct {
	name string
	v    Version
	raw  []byte // the whole packet, fixed header included
	want any    // *Connect, *Connack, *Publish, *Ack, ... or *ping; nil when err is set
	err  *Error // the first error the Parser, CheckFlags or the decoder reports

	// nonCanonical marks a valid packet that encodes to other bytes (a
	// long form, properties out of order): only decode is compared.
	nonCanonical bool
}

// ping stands for PINGREQ and PINGRESP, which have no struct of their own.
type ping struct{ Type Type }

var fixtures = slices.Concat(connectFixtures, connackFixtures, publishFixtures, ackFixtures,
	subscribeFixtures, otherFixtures)

// pr returns p with the scalar properties ids marked present.
func pr(p Properties, ids ...byte) Properties {
	for _, id := range ids {
		p.Set(id)
	}
	return p
}

// b is []byte(s), for the expected packets.
func b(s string) []byte { return []byte(s) }

// decodePacket checks the flags and decodes body into a new struct of h's type.
func decodePacket(v Version, h FixedHeader, body []byte) (any, error) {
	if err := CheckFlags(h.Type, h.Flags, v); err != nil {
		return nil, err
	}
	switch h.Type {
	case CONNECT:
		c := new(Connect)
		return c, DecodeConnect(body, c)
	case CONNACK:
		c := new(Connack)
		return c, DecodeConnack(v, body, c)
	case PUBLISH:
		p := new(Publish)
		return p, DecodePublish(v, h.Flags, body, p)
	case PUBACK, PUBREC, PUBREL, PUBCOMP:
		a := new(Ack)
		return a, DecodeAck(v, h.Type, h.Flags, body, a)
	case SUBSCRIBE:
		s := new(Subscribe)
		return s, DecodeSubscribe(v, body, s)
	case SUBACK:
		s := new(Suback)
		return s, DecodeSuback(v, body, s)
	case UNSUBSCRIBE:
		u := new(Unsubscribe)
		return u, DecodeUnsubscribe(v, body, u)
	case UNSUBACK:
		u := new(Unsuback)
		return u, DecodeUnsuback(v, body, u)
	case PINGREQ, PINGRESP:
		return &ping{h.Type}, DecodePing(body)
	case DISCONNECT:
		d := new(Disconnect)
		return d, DecodeDisconnect(v, body, d)
	default: // AUTH: CheckFlags refused the others
		a := new(Auth)
		return a, DecodeAuth(body, a)
	}
}

// encodePacket appends pkt, a struct decodePacket returns, to dst.
func encodePacket(dst []byte, v Version, pkt any) []byte {
	switch p := pkt.(type) {
	case *Connect:
		return AppendConnect(dst, p)
	case *Connack:
		return AppendConnack(dst, v, p)
	case *Publish:
		return AppendPublish(dst, v, p)
	case *Ack:
		return AppendAck(dst, v, p)
	case *Subscribe:
		return AppendSubscribe(dst, v, p)
	case *Suback:
		return AppendSuback(dst, v, p)
	case *Unsubscribe:
		return AppendUnsubscribe(dst, v, p)
	case *Unsuback:
		return AppendUnsuback(dst, v, p)
	case *ping:
		if p.Type == PINGREQ {
			return AppendPingreq(dst)
		}
		return AppendPingresp(dst)
	case *Disconnect:
		return AppendDisconnect(dst, v, p)
	case *Auth:
		return AppendAuth(dst, p)
	}
	panic("encodePacket: unknown packet type")
}

// firstPacket returns the first packet of raw; ok is false if the Parser
// finds none or an error.
func firstPacket(raw []byte) (h FixedHeader, body []byte, ok bool) {
	var p Parser
	p.Feed(raw)
	h, body, ok, err := p.Next()
	return h, body, ok && err == nil
}

// readOne parses raw, which must hold exactly one packet, and decodes it:
// the path a broker takes.
func readOne(v Version, raw []byte) (FixedHeader, any, error) {
	var p Parser
	p.Feed(raw)
	h, body, ok, err := p.Next()
	if err != nil {
		return h, nil, err
	}
	if !ok {
		return h, nil, errors.New("incomplete packet")
	}
	if _, _, ok, err := p.Next(); ok || err != nil || p.Buffered() != 0 {
		return h, nil, errors.New("bytes after the packet")
	}
	pkt, err := decodePacket(v, h, body)
	return h, pkt, err
}

func TestFixtureTableIsSound(t *testing.T) {
	names := map[string]bool{}
	valid, invalid := 0, 0
	for _, f := range fixtures {
		if names[f.name] {
			t.Errorf("duplicate fixture name %q", f.name)
		}
		names[f.name] = true
		if (f.want == nil) == (f.err == nil) {
			t.Errorf("%s: exactly one of want and err must be set", f.name)
		}
		if f.err != nil {
			invalid++
		} else {
			valid++
		}
	}
	if valid < 40 || invalid < 60 {
		t.Errorf("table has %d valid and %d invalid fixtures; expected more", valid, invalid)
	}
}

func TestFixturesDecode(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			h, got, err := readOne(f.v, f.raw)
			if f.err != nil {
				if err != f.err {
					t.Fatalf("error = %v, want %v", err, f.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, f.want) {
				t.Fatalf("decoded\n %+v\nwant\n %+v", got, f.want)
			}
			if h.Remaining != len(f.raw)-1-VarintSize(h.Remaining) {
				t.Fatalf("remaining length %d does not match %d raw bytes", h.Remaining, len(f.raw))
			}
		})
	}
}

func TestFixturesRoundTrip(t *testing.T) {
	for _, f := range fixtures {
		if f.err != nil {
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			enc := encodePacket([]byte("prefix"), f.v, f.want)
			if string(enc[:6]) != "prefix" {
				t.Fatal("encoder overwrote dst's bytes")
			}
			enc = enc[6:]
			if !f.nonCanonical && !bytes.Equal(enc, f.raw) {
				t.Fatalf("encoded\n % x\nwant\n % x", enc, f.raw)
			}
			_, again, err := readOne(f.v, enc)
			if err != nil {
				t.Fatalf("decoding the encoding: %v", err)
			}
			if !reflect.DeepEqual(again, f.want) {
				t.Fatalf("decoded encoding\n %+v\nwant\n %+v", again, f.want)
			}
			if p, ok := f.want.(*Publish); ok && PublishSize(f.v, p) != len(enc) {
				t.Fatalf("PublishSize = %d, encoded %d bytes", PublishSize(f.v, p), len(enc))
			}
		})
	}
}

// reusedPackets holds one struct of each type, decoded into again and again
// as a connection's reader would.
type reusedPackets struct {
	connect     Connect
	connack     Connack
	publish     Publish
	ack         Ack
	subscribe   Subscribe
	suback      Suback
	unsubscribe Unsubscribe
	unsuback    Unsuback
	ping        ping
	disconnect  Disconnect
	auth        Auth
}

func (r *reusedPackets) decode(v Version, h FixedHeader, body []byte) (any, error) {
	if err := CheckFlags(h.Type, h.Flags, v); err != nil {
		return nil, err
	}
	switch h.Type {
	case CONNECT:
		return &r.connect, DecodeConnect(body, &r.connect)
	case CONNACK:
		return &r.connack, DecodeConnack(v, body, &r.connack)
	case PUBLISH:
		return &r.publish, DecodePublish(v, h.Flags, body, &r.publish)
	case PUBACK, PUBREC, PUBREL, PUBCOMP:
		return &r.ack, DecodeAck(v, h.Type, h.Flags, body, &r.ack)
	case SUBSCRIBE:
		return &r.subscribe, DecodeSubscribe(v, body, &r.subscribe)
	case SUBACK:
		return &r.suback, DecodeSuback(v, body, &r.suback)
	case UNSUBSCRIBE:
		return &r.unsubscribe, DecodeUnsubscribe(v, body, &r.unsubscribe)
	case UNSUBACK:
		return &r.unsuback, DecodeUnsuback(v, body, &r.unsuback)
	case PINGREQ, PINGRESP:
		r.ping.Type = h.Type
		return &r.ping, DecodePing(body)
	case DISCONNECT:
		return &r.disconnect, DecodeDisconnect(v, body, &r.disconnect)
	default:
		return &r.auth, DecodeAuth(body, &r.auth)
	}
}

// emptyToNil clears the empty-but-non-nil lists a reused struct keeps, so
// that it compares equal to a freshly decoded one.
func emptyToNil(pkt any) {
	props := func(p *Properties) {
		if len(p.UserProperties) == 0 {
			p.UserProperties = nil
		}
		if len(p.SubscriptionIDs) == 0 {
			p.SubscriptionIDs = nil
		}
	}
	switch p := pkt.(type) {
	case *Connect:
		props(&p.Props)
		props(&p.WillProps)
	case *Connack:
		props(&p.Props)
	case *Publish:
		props(&p.Props)
	case *Ack:
		props(&p.Props)
	case *Subscribe:
		props(&p.Props)
	case *Suback:
		props(&p.Props)
	case *Unsubscribe:
		props(&p.Props)
	case *Unsuback:
		props(&p.Props)
		if len(p.Reasons) == 0 {
			p.Reasons = nil
		}
	case *Disconnect:
		props(&p.Props)
	case *Auth:
		props(&p.Props)
	}
}

// TestDecodeReusedStructs decodes every fixture, twice over, into structs
// that hold the previous packets: nothing of an earlier packet may leak
// into a later one.
func TestDecodeReusedStructs(t *testing.T) {
	var r reusedPackets
	for round := 0; round < 2; round++ {
		for _, f := range fixtures {
			h, body, ok := firstPacket(f.raw)
			if !ok {
				continue
			}
			got, err := r.decode(f.v, h, body)
			if f.err != nil {
				if err != f.err {
					t.Errorf("%s: error = %v, want %v", f.name, err, f.err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", f.name, err)
				continue
			}
			emptyToNil(got)
			if !reflect.DeepEqual(got, f.want) {
				t.Errorf("%s: decoded into a reused struct\n %+v\nwant\n %+v", f.name, got, f.want)
			}
		}
	}
}

func TestUnsupportedProtocolKeepsVersion(t *testing.T) {
	for _, tc := range []struct {
		raw  []byte
		want Version
	}{
		{[]byte{0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 0, 0, 10, 0, 0}, 3},
		{[]byte{0, 4, 'M', 'Q', 'T', 'T', 6, 0, 0, 10, 0, 0}, 6},
		{[]byte{0, 4, 'M', 'Q', 'T', 'X', 5, 0, 0, 10, 0}, V5},
		{[]byte{0, 4, 'M', 'Q', 'T', 'T'}, 0},
	} {
		c := Connect{Version: V311}
		err := DecodeConnect(tc.raw, &c)
		if tc.want == 0 {
			if err != errTruncated || c.Version != 0 {
				t.Errorf("% x: error %v, version %d; want truncated, 0", tc.raw, err, c.Version)
			}
			continue
		}
		if err != ErrUnsupportedProtocol || c.Version != tc.want {
			t.Errorf("% x: error %v, version %d; want %v, %d", tc.raw, err, c.Version, ErrUnsupportedProtocol, tc.want)
		}
		if Reason(err) != UnsupportedProtocolVersion {
			t.Errorf("Reason = %v", Reason(err))
		}
	}
}

func TestCheckFlags(t *testing.T) {
	for typ := Type(0); typ < 16; typ++ {
		for flags := byte(0); flags < 16; flags++ {
			for _, v := range []Version{V311, V5} {
				err := CheckFlags(typ, flags, v)
				var want error
				switch {
				case typ == 0 || (typ == AUTH && v == V311):
					want = ErrReservedType
				case typ == PUBLISH && flags&6 == 6:
					want = errPublishQoS3
				case typ == PUBLISH && flags&6 == 0 && flags&8 != 0:
					want = errDupQoS0
				case typ == PUBLISH:
				case typ == PUBREL || typ == SUBSCRIBE || typ == UNSUBSCRIBE:
					if flags != 2 {
						want = errBadFlags
					}
				case flags != 0:
					want = errBadFlags
				}
				if err != want {
					t.Errorf("CheckFlags(%v, %#x, %v) = %v, want %v", typ, flags, v, err, want)
				}
			}
		}
	}
}

func TestEncodersLeaveOutForeignProperties(t *testing.T) {
	var props Properties
	props.TopicAlias = 3 // a PUBLISH property
	props.Set(PropTopicAlias)
	props.ReasonString = b("r") // not allowed in PUBLISH, allowed in CONNACK
	got := AppendConnack(nil, V5, &Connack{Props: props})
	want := []byte{0x20, 7, 0, 0, 4, PropReasonString, 0, 1, 'r'}
	if !bytes.Equal(got, want) {
		t.Errorf("CONNACK % x, want % x", got, want)
	}
	got = AppendPublish(nil, V5, &Publish{Topic: b("t"), Props: props})
	want = []byte{0x30, 7, 0, 1, 't', 3, PropTopicAlias, 0, 3}
	if !bytes.Equal(got, want) {
		t.Errorf("PUBLISH % x, want % x", got, want)
	}
	if got := AppendPublish(nil, V311, &Publish{Topic: b("t"), Props: props}); !bytes.Equal(got, []byte{0x30, 3, 0, 1, 't'}) {
		t.Errorf("3.1.1 PUBLISH % x carries properties", got)
	}
}

func TestPropertiesPresence(t *testing.T) {
	var p Properties
	for _, id := range []byte{PropSessionExpiry, PropContentType, PropUserProperty, PropSubscriptionID} {
		if p.Has(id) {
			t.Errorf("empty Properties has %#x", id)
		}
	}
	p.Set(PropSessionExpiry)
	p.Set(PropContentType) // not a scalar: Set does nothing
	p.ContentType = []byte{}
	p.UserProperties = append(p.UserProperties, UserProperty{b("k"), b("v")})
	p.SubscriptionIDs = append(p.SubscriptionIDs, 9)
	for _, id := range []byte{PropSessionExpiry, PropContentType, PropUserProperty, PropSubscriptionID} {
		if !p.Has(id) {
			t.Errorf("Has(%#x) = false", id)
		}
		p.Clear(id)
		if p.Has(id) {
			t.Errorf("Has(%#x) after Clear", id)
		}
	}
	if p.Has(PropReasonString) || p.Has(200) {
		t.Error("Has reports absent properties")
	}
	if cap(p.UserProperties) == 0 {
		t.Error("Clear released the user properties' capacity")
	}
}

func TestErrorsCarryReasons(t *testing.T) {
	for _, f := range fixtures {
		if f.err == nil {
			continue
		}
		if f.err.Code < 0x80 {
			t.Errorf("%s: %v has a success reason code", f.name, f.err)
		}
		if msg := f.err.Error(); len(msg) < 7 || msg[:6] != "mqtt: " {
			t.Errorf("%s: error %q lacks the package prefix", f.name, msg)
		}
	}
	if Reason(errors.New("other")) != UnspecifiedError {
		t.Error("Reason of a foreign error")
	}
}

func TestDecodeAckRejectsOtherTypes(t *testing.T) {
	var a Ack
	for _, typ := range []Type{CONNECT, PUBLISH, SUBACK, AUTH} {
		if err := DecodeAck(V5, typ, 0, []byte{0, 1}, &a); err != errNotAck {
			t.Errorf("DecodeAck(%v) = %v, want %v", typ, err, errNotAck)
		}
	}
}
